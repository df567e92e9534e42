"""What the synthetic inventories are drawn from (DOMAIN.md §6): the names of departments, party
organs, institutions and their systems, the provinces, and the legacy estate's mixes (operating
systems by weight, hypervisors, core counts, disk layouts, software, databases) together with the
cloud catalogue (flavours, images) a generated cloud offers.

Data only: ``inventory/generate.py`` (the generator) and ``inventory/heyuan.py`` (the bundled demo
city) draw from it. The values are immutable and shared between the records built from them.
"""

from __future__ import annotations

import itertools

from govcloud.model.entities import DataItem, Disk, Flavor, Image, Software
from govcloud.model.enums import (
    CpuArch, CpuVendor, DbEngine, Hypervisor, OrgType, OsDistribution, ServerKind, ServerRole, ZombieCriterion,
)

# ---------------------------------------------------------------- name catalogues

G, D, P = OrgType.gov_component, OrgType.gov_direct, OrgType.public_institution

# code, city-level name, provincial name, org type, heavy?, classified-prone?, systems
DEPARTMENTS: tuple[tuple[str, str, str, OrgType, bool, bool, tuple[str, ...]], ...] = (
    ("fgj", "发展和改革局", "发展和改革委员会", G, False, False,
     ("投资项目在线审批监管平台", "价格监测系统", "重点项目管理系统", "社会信用信息共享平台", "能源统计监测系统")),
    ("jyj", "教育局", "教育厅", G, True, False,
     ("学籍管理系统", "招生考试管理系统", "教育城域网管理平台", "教育资源公共服务平台", "校园安全视频监控平台",
      "教师继续教育管理系统", "学生资助管理系统", "中小学招生报名系统", "教育装备管理系统")),
    ("kjj", "科学技术局", "科学技术厅", G, False, False, ("科技项目管理系统", "科技专家库系统", "高新技术企业认定系统")),
    ("gxj", "工业和信息化局", "工业和信息化厅", G, False, False,
     ("企业运行监测系统", "中小企业公共服务平台", "工业项目管理系统")),
    ("gaj", "公安局", "公安厅", G, True, True,
     ("警务综合平台", "人口信息管理系统", "视频图像信息综合应用平台", "交通违法处理系统", "出入境管理系统",
      "治安管理信息系统", "110接处警系统", "警务地理信息系统", "执法办案系统", "户政业务系统")),
    ("mzj", "民政局", "民政厅", G, False, False,
     ("社会救助管理系统", "婚姻登记管理系统", "养老服务信息平台", "殡葬管理系统", "社会组织管理系统", "区划地名管理系统")),
    ("sfj", "司法局", "司法厅", G, False, False,
     ("社区矫正管理系统", "人民调解管理系统", "法律援助管理系统", "公共法律服务平台")),
    ("czj", "财政局", "财政厅", G, False, False,
     ("财政预算管理系统", "国库集中支付系统", "非税收入管理系统", "政府采购管理系统", "行政事业单位资产管理系统",
      "会计集中核算系统")),
    ("rsj", "人力资源和社会保障局", "人力资源和社会保障厅", G, True, False,
     ("社会保险信息系统", "就业失业登记系统", "人事考试管理系统", "劳动保障监察系统", "社保卡服务平台",
      "养老保险待遇发放系统", "工伤保险管理系统", "人才服务平台")),
    ("zrzyj", "自然资源局", "自然资源厅", G, True, False,
     ("不动产登记系统", "国土空间规划一张图系统", "土地供应管理系统", "测绘地理信息公共服务平台", "矿产资源管理系统",
      "国土执法监察系统", "林地管理系统")),
    ("sthjj", "生态环境局", "生态环境厅", G, False, False,
     ("污染源在线监控系统", "环境质量自动监测系统", "环评审批系统", "排污许可管理系统")),
    ("zjj", "住房和城乡建设局", "住房和城乡建设厅", G, False, False,
     ("建筑市场监管平台", "房产交易管理系统", "施工图审查系统", "城建档案管理系统", "物业管理服务平台")),
    ("jtj", "交通运输局", "交通运输厅", G, False, False,
     ("道路运输管理系统", "交通工程建设管理系统", "出租汽车监管平台", "公路路政管理系统")),
    ("swj", "水务局", "水利厅", G, False, False,
     ("水资源监测系统", "防汛抗旱指挥系统", "水利工程管理系统", "河长制信息管理系统")),
    ("nyj", "农业农村局", "农业农村厅", G, False, False,
     ("农产品质量安全追溯系统", "动物疫病防控系统", "农村集体三资管理系统", "农机管理系统")),
    ("swuj", "商务局", "商务厅", G, False, False, ("商务运行监测系统", "外资企业管理系统", "电子商务公共服务平台")),
    ("wglj", "文化广电旅游体育局", "文化和旅游厅", G, False, False,
     ("公共文化服务平台", "旅游行业监管平台", "文化市场综合执法系统", "全民健身服务平台")),
    ("wjj", "卫生健康局", "卫生健康委员会", G, True, False,
     ("全民健康信息平台", "公共卫生管理系统", "电子健康档案系统", "妇幼保健信息系统", "计划生育管理信息系统",
      "医疗机构监管平台", "120急救调度系统", "卫生监督信息系统", "远程医疗服务平台", "疾病预防控制系统")),
    ("tyjrj", "退役军人事务局", "退役军人事务厅", G, False, False, ("优抚对象管理系统", "退役军人服务平台")),
    ("yjj", "应急管理局", "应急管理厅", G, False, False,
     ("应急指挥平台", "安全生产监管信息系统", "危险化学品监管系统", "森林防火监测系统")),
    ("sjj", "审计局", "审计厅", G, False, False, ("审计管理系统", "联网审计系统")),
    ("scjgj", "市场监督管理局", "市场监督管理局", D, False, False,
     ("企业登记注册系统", "市场主体信用信息公示系统", "食品安全监管系统", "特种设备安全监管系统", "12315投诉举报系统",
      "计量检定管理系统", "药品流通监管系统")),
    ("tjj", "统计局", "统计局", D, False, False, ("统计数据管理系统", "统计数据采集处理系统")),
    ("ybj", "医疗保障局", "医疗保障局", D, False, False, ("医疗保障信息系统", "医保结算系统")),
    ("xfj", "信访局", "信访局", D, False, False, ("网上信访系统",)),
    ("cgj", "城市管理和综合执法局", "城市管理和综合执法局", D, False, False, ("数字化城市管理系统", "户外广告审批系统")),
    ("lyj", "林业局", "林业局", D, False, False, ("林权管理系统", "森林资源管理系统")),
    ("gzw", "国有资产监督管理委员会", "国有资产监督管理委员会", D, False, False, ("国资监管信息系统", "企业产权登记系统")),
    ("daj", "档案馆", "档案馆", P, False, False, ("数字档案馆系统", "档案目录管理系统")),
    ("gxs", "供销合作联社", "供销合作联社", P, False, False, ("农资流通管理系统",)),
    ("lsj", "粮食和物资储备局", "粮食和物资储备局", D, False, False, ("粮食储备管理系统", "粮油质量监测系统")),
    ("dfz", "地方志办公室", "地方志办公室", P, False, False, ("地方志数据库系统",)),
    ("mzzj", "民族宗教事务局", "民族宗教事务委员会", G, False, False, ("宗教事务管理系统",)),
    ("wsj", "外事局", "外事办公室", D, False, False, ("因公出国管理系统", "侨务信息管理系统")),
    ("jrj", "金融工作局", "地方金融监督管理局", D, False, False, ("地方金融监管系统", "小额贷款监管平台")),
    ("rfb", "人民防空办公室", "人民防空办公室", D, False, False, ("人防工程管理系统", "防空警报控制系统")),
    ("ggzy", "公共资源交易中心", "公共资源交易中心", P, False, False,
     ("公共资源交易平台", "电子招投标系统", "远程异地评标系统")),
    ("zwfw", "政务服务中心", "政务服务中心", P, False, False,
     ("行政审批业务系统", "网上办事大厅", "排队叫号系统", "12345政务服务热线系统")),
    ("xxzx", "信息中心", "信息中心", P, False, False,
     ("政务外网管理系统", "网络安全监测平台", "政务云管理平台")),
)
PARTY = (("swbgs", "委办公室", OrgType.party_dept, True, ("机要文电系统", "督查督办系统")),
         ("zzb", "委组织部", OrgType.party_dept, False, ("党员信息管理系统", "干部信息管理系统")),
         ("xcb", "委宣传部", OrgType.party_dept, False, ("网络舆情监测系统",)),
         ("tzb", "委统战部", OrgType.party_dept, False, ("统战信息管理系统",)),
         ("zfw", "委政法委", OrgType.party_dept, True, ("综治信息平台",)),
         ("jwjw", "纪委监委", OrgType.party_dept, True, ("纪检监察业务平台", "廉政档案系统")),
         ("jyj2", "委机要局", OrgType.party_dept, True, ("机要密码管理系统",)),
         ("rd", "人大常委会办公室", OrgType.congress_cppcc_court_proc, False, ("人大代表履职平台", "预算联网监督系统")),
         ("zx", "政协办公室", OrgType.congress_cppcc_court_proc, False, ("政协提案管理系统",)),
         ("fy", "中级人民法院", OrgType.congress_cppcc_court_proc, True, ("审判流程管理系统", "执行案件管理系统")),
         ("jcy", "人民检察院", OrgType.congress_cppcc_court_proc, True, ("检察业务应用系统",)),
         ("zgh", "总工会", OrgType.mass_org, False, ("职工服务平台",)),
         ("tw", "团委", OrgType.mass_org, False, ("志愿服务管理系统",)),
         ("fl", "妇女联合会", OrgType.mass_org, False, ("妇女儿童维权服务系统",)),
         ("cl", "残疾人联合会", OrgType.mass_org, False, ("残疾人证管理系统",)),
         ("kx", "科学技术协会", OrgType.mass_org, False, ("科普信息服务平台",)))
INSTITUTION_KINDS = ("中心", "研究所", "站", "队", "院", "馆", "所")
INSTITUTION_TOPICS = (
    ("住房公积金管理中心", ("住房公积金管理系统", "公积金网上服务大厅")), ("疾病预防控制中心", ("疾控业务管理系统", "免疫规划信息系统")),
    ("人民医院", ("医院信息系统(HIS)", "影像归档和通信系统(PACS)", "实验室信息系统(LIS)")),
    ("中医院", ("医院信息系统(HIS)", "电子病历系统")), ("妇幼保健院", ("妇幼保健业务系统",)),
    ("社会保险基金管理局", ("社会保险经办系统",)), ("不动产登记中心", ("不动产登记业务系统", "不动产登记档案系统")),
    ("城市规划设计研究院", ("规划设计成果管理系统",)), ("气象局", ("气象信息服务系统", "自动气象站监测系统")),
    ("地震局", ("地震监测预警系统",)), ("广播电视台", ("融媒体内容管理系统", "新闻采编系统")),
    ("图书馆", ("图书馆集群管理系统", "数字图书馆平台")), ("博物馆", ("藏品管理系统",)),
    ("环境监测站", ("环境监测数据管理系统",)), ("水文局", ("水文信息采集系统",)),
    ("交通运输综合执法支队", ("交通执法管理系统",)), ("市场监管综合执法支队", ("市场监管执法办案系统",)),
    ("农业科学研究所", ("农业科研管理系统",)), ("林业科学研究所", ("林业资源监测系统",)),
    ("职业技术学院", ("教务管理系统", "校园一卡通系统")), ("广播电视大学", ("远程教学平台",)),
    ("公证处", ("公证业务管理系统",)), ("救助管理站", ("救助管理信息系统",)),
    ("社会福利院", ("福利院管理系统",)), ("人才交流服务中心", ("人事代理管理系统",)),
    ("劳动人事争议仲裁院", ("仲裁案件管理系统",)), ("建设工程质量安全监督站", ("工程质量安全监督系统",)),
    ("房地产交易所", ("存量房交易系统",)), ("中心血站", ("血液管理信息系统",)),
    ("急救指挥中心", ("120急救指挥调度系统",)), ("机关事务管理局", ("公务用车管理平台", "机关资产管理系统")),
    ("政府投资审计中心", ("投资审计管理系统",)), ("价格认证中心", ("价格认定系统",)),
    ("信用中心", ("公共信用信息平台",)), ("大数据中心", ("政务大数据平台", "数据资源目录系统")),
    ("应急管理技术中心", ("安全生产在线监测系统",)), ("城市照明管理所", ("智慧路灯管理系统",)),
    ("园林绿化管理局", ("园林绿化管理系统",)), ("供水公司", ("供水营业收费系统", "管网GIS系统")),
    ("公交集团", ("公交智能调度系统", "公交一卡通系统")), ("城市投资集团", ("企业资源计划系统",)),
)
GENERIC_SYSTEMS = ("门户网站", "OA办公系统", "内部管理系统", "档案管理系统", "视频会议系统", "政务信息公开系统",
                   "微信公众号管理平台", "业务数据报送系统", "移动办公平台")
VARIANT_SUFFIXES = ("(二期)", "移动端", "数据交换子系统", "统计分析子系统", "(县区版)", "监管子系统", "对外服务子系统")

# department code → ((vertical level, authority, system name), ...)
VERTICALS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "gaj": (("n", "公安部", "全国人口信息系统"), ("n", "公安部", "全国违法犯罪人员信息系统"),
            ("p", "省公安厅", "交通管理综合应用平台"), ("p", "省公安厅", "警务云平台前置系统")),
    "rsj": (("p", "省人力资源和社会保障厅", "金保工程社会保险系统"), ("n", "人力资源和社会保障部", "全国就业信息监测系统")),
    "wjj": (("n", "国家卫生健康委员会", "国家传染病网络直报系统"), ("p", "省卫生健康委员会", "全省预防接种信息系统"),
            ("n", "国家卫生健康委员会", "全员人口信息系统")),
    "mzj": (("n", "民政部", "全国最低生活保障信息系统"), ("n", "民政部", "全国婚姻登记信息系统")),
    "czj": (("n", "财政部", "预算执行动态监控系统"), ("p", "省财政厅", "省财政一体化平台前置系统")),
    "scjgj": (("n", "国家市场监督管理总局", "国家企业信用信息公示系统"), ("p", "省市场监督管理局", "全省食品安全追溯平台")),
    "zrzyj": (("n", "自然资源部", "全国土地市场动态监测与监管系统"), ("n", "自然资源部", "不动产登记信息管理基础平台")),
    "jyj": (("n", "教育部", "全国中小学生学籍信息管理系统"), ("n", "教育部", "全国教育经费统计系统")),
    "tjj": (("n", "国家统计局", "国家统计联网直报平台"),),
    "nyj": (("n", "农业农村部", "国家动物疫病监测信息系统"), ("p", "省农业农村厅", "农村土地承包经营权信息系统")),
    "jtj": (("p", "省交通运输厅", "全省道路运输管理系统"),),
    "sthjj": (("n", "生态环境部", "全国排污许可证管理信息平台"),),
    "yjj": (("n", "应急管理部", "国家安全生产风险监测预警系统"),),
    "ybj": (("n", "国家医疗保障局", "国家医疗保障信息平台"),),
    "sjj": (("n", "审计署", "金审工程现场审计实施系统"),),
    "sfj": (("n", "司法部", "全国社区矫正信息管理系统"),),
    "xfj": (("n", "国家信访局", "全国信访信息系统"),),
}
HEAVY = frozenset(d[0] for d in DEPARTMENTS if d[4])

NAME_CHARS = "安宁平阳江山河清远兴华东西南北龙泉德昌丰庆源临沧云溪林湖海州城丹桂梅韶肇惠潮揭茂湛汕珠佛中"
PROVINCES = (("110000", "北京市"), ("120000", "天津市"), ("130000", "河北省"), ("140000", "山西省"),
             ("150000", "内蒙古自治区"), ("210000", "辽宁省"), ("220000", "吉林省"), ("230000", "黑龙江省"),
             ("310000", "上海市"), ("320000", "江苏省"), ("330000", "浙江省"), ("340000", "安徽省"),
             ("350000", "福建省"), ("360000", "江西省"), ("370000", "山东省"), ("410000", "河南省"),
             ("420000", "湖北省"), ("430000", "湖南省"), ("440000", "广东省"), ("450000", "广西壮族自治区"),
             ("460000", "海南省"), ("500000", "重庆市"), ("510000", "四川省"), ("520000", "贵州省"),
             ("530000", "云南省"), ("540000", "西藏自治区"), ("610000", "陕西省"), ("620000", "甘肃省"),
             ("630000", "青海省"), ("640000", "宁夏回族自治区"), ("650000", "新疆维吾尔自治区"))

# ---------------------------------------------------------------- shared immutable values

# Up to 64 vCPU / 256 GB, as government clouds offer: without observed utilisation the
# planner sizes by the declared hardware, and legacy database hosts are 32C128G–64C256G.
FLAVORS = (Flavor("s6.large.2", 2, 4, 40), Flavor("s6.xlarge.2", 4, 8, 40), Flavor("s6.2xlarge.2", 8, 16, 50),
           Flavor("s6.4xlarge.2", 16, 32, 100), Flavor("s6.8xlarge.2", 32, 64, 100),
           Flavor("m6.4xlarge.8", 16, 128, 100), Flavor("s6.8xlarge.4", 32, 128, 100),
           Flavor("m6.8xlarge.8", 32, 256, 100), Flavor("s6.16xlarge.4", 64, 256, 100))
KP_FLAVORS = (Flavor("kc1.xlarge.2", 4, 8, 40), Flavor("kc1.2xlarge.2", 8, 16, 50),
              Flavor("kc1.4xlarge.2", 16, 32, 100), Flavor("kc1.8xlarge.2", 32, 64, 100),
              Flavor("kc1.8xlarge.4", 32, 128, 100), Flavor("kc1.16xlarge.4", 64, 256, 100))
X86_IMAGES = (Image("openEuler-22.03-LTS-x86_64", OsDistribution.openeuler, "22.03 LTS", CpuArch.x86_64, True),
              Image("Kylin-Server-V10-SP2-x86_64", OsDistribution.kylin, "V10 SP2", CpuArch.x86_64, True),
              Image("UOS-Server-20-1050e-x86_64", OsDistribution.uos, "20", CpuArch.x86_64, True),
              Image("CentOS-7.9-x86_64", OsDistribution.centos, "7.9", CpuArch.x86_64, False),
              Image("Windows-Server-2016-DataCenter", OsDistribution.windows, "2016", CpuArch.x86_64, False))
ARM_IMAGES = (Image("openEuler-22.03-LTS-aarch64", OsDistribution.openeuler, "22.03 LTS", CpuArch.aarch64, True),
              Image("Kylin-Server-V10-SP2-aarch64", OsDistribution.kylin, "V10 SP2", CpuArch.aarch64, True),
              Image("UOS-Server-20-1050e-aarch64", OsDistribution.uos, "20", CpuArch.aarch64, True))

# (weight, os, versions, arch, vendors, kind) — the legacy estate of DOMAIN.md §6
_OS_TABLE = (
    (0.17, OsDistribution.centos, ("6.5", "6.8", "6.9", "6.10"), CpuArch.x86_64, (CpuVendor.intel,), None),
    (0.25, OsDistribution.centos, ("7.2", "7.4", "7.6", "7.9"), CpuArch.x86_64, (CpuVendor.intel, CpuVendor.amd), None),
    (0.31, OsDistribution.windows, ("2008 R2", "2012 R2", "2016"), CpuArch.x86_64, (CpuVendor.intel,), None),
    (0.10, OsDistribution.rhel, ("5.8", "6.5", "7.4"), CpuArch.x86_64, (CpuVendor.intel,), None),
    (0.03, OsDistribution.suse, ("11 SP4", "12 SP3"), CpuArch.x86_64, (CpuVendor.intel,), None),
    (0.03, OsDistribution.ubuntu, ("14.04", "16.04", "18.04"), CpuArch.x86_64, (CpuVendor.intel,), None),
    (0.02, OsDistribution.debian, ("8", "9"), CpuArch.x86_64, (CpuVendor.intel,), None),
    (0.012, OsDistribution.aix, ("6.1", "7.1"), CpuArch.ppc64, (CpuVendor.ibm,), ServerKind.minicomputer),
    (0.005, OsDistribution.hpux, ("11.31",), CpuArch.ia64, (CpuVendor.intel,), ServerKind.minicomputer),
    (0.003, OsDistribution.solaris, ("10", "11"), CpuArch.sparc, (CpuVendor.other,), ServerKind.minicomputer),
    (0.02, OsDistribution.kylin, ("V10",), CpuArch.x86_64, (CpuVendor.hygon, CpuVendor.zhaoxin), None),
    (0.012, OsDistribution.kylin, ("V10",), CpuArch.aarch64, (CpuVendor.kunpeng, CpuVendor.phytium), None),
    (0.01, OsDistribution.neokylin, ("7.0",), CpuArch.x86_64, (CpuVendor.zhaoxin,), None),
    (0.008, OsDistribution.uos, ("20",), CpuArch.x86_64, (CpuVendor.hygon,), None),
)
_OS_CUM = list(itertools.accumulate(w for w, *_ in _OS_TABLE))
_HYPERVISORS = (Hypervisor.vmware,) * 12 + (Hypervisor.fusioncompute,) * 3 + (Hypervisor.kvm,) * 2 + \
               (Hypervisor.hyperv,) * 2 + (Hypervisor.cas,)
_VM_CORES = (2, 4, 4, 4, 8, 8, 8, 16, 16, 32)
_PHYS_CORES = (16, 24, 32, 32, 48, 64)
_SYS_DISKS = tuple((Disk(s, round(s * u), "sda"),) for s in (40, 60, 80, 100) for u in (0.35, 0.55, 0.8))
_DATA_DISKS = tuple(Disk(s, round(s * u), "sdb") for s in (100, 200, 500, 1000, 2000) for u in (0.2, 0.5, 0.75))
_SOFTWARE = {
    ServerRole.web: ((Software("Nginx", "1.16"),), (Software("Apache httpd", "2.4"),), (Software("IIS", "8.5"),)),
    ServerRole.app: ((Software("Tomcat", "8.5"),), (Software("WebLogic", "12c"),), (Software("JBoss", "6.4"),),
                     (Software("TongWeb", "7.0"),)),
    ServerRole.cache: ((Software("Redis", "5.0"),),), ServerRole.mq: ((Software("RabbitMQ", "3.7"),),),
    ServerRole.file: ((Software("vsftpd", "3.0"),),), ServerRole.backup: ((Software("NetBackup", "8.1"),),),
}
_DB_BY_OS = {
    "windows": ((DbEngine.sqlserver, "2012"), (DbEngine.sqlserver, "2016"), (DbEngine.sqlserver, "2008 R2")),
    "mini": ((DbEngine.oracle, "11g"), (DbEngine.oracle, "10g"), (DbEngine.db2, "10.5"), (DbEngine.informix, "11.7")),
    "domestic": ((DbEngine.dm, "8"), (DbEngine.kingbase, "V8"), (DbEngine.gbase, "8s")),
    "linux": ((DbEngine.oracle, "11g"), (DbEngine.oracle, "12c"), (DbEngine.mysql, "5.6"), (DbEngine.mysql, "5.7"),
              (DbEngine.mysql, "5.7"), (DbEngine.mysql, "8.0"), (DbEngine.postgresql, "10"), (DbEngine.dm, "7"),
              (DbEngine.mongodb, "3.6"), (DbEngine.mariadb, "10.3")),
}
_ZOMBIE_CRITERIA = tuple(ZombieCriterion)
_ITEMS = (DataItem("统一社会信用代码", "字符型"), DataItem("名称", "字符型"), DataItem("登记日期", "日期型"))
_DEVELOPERS = ("数字广东网络建设有限公司", "太极计算机股份有限公司", "浪潮软件集团有限公司", "东软集团股份有限公司",
               "中国电信股份有限公司", "中国移动通信集团有限公司", "南威软件股份有限公司", "万达信息股份有限公司",
               "华宇软件股份有限公司", "用友政务软件有限公司", "中科软科技股份有限公司", "本地软件开发公司")
