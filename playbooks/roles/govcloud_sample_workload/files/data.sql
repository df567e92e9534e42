-- departments and their government service items (政务服务事项), owned by govapp
SET ROLE govapp;
CREATE TABLE department (
    code text PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE service_item (
    id integer PRIMARY KEY,
    dept_code text NOT NULL REFERENCES department(code),
    name text NOT NULL,
    category text NOT NULL,
    online boolean NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO department VALUES
  ('fgj', '发展和改革局'), ('gaj', '公安局'), ('mzj', '民政局'), ('sfj', '司法局'),
  ('czj', '财政局'), ('rsj', '人力资源和社会保障局'), ('zrzyj', '自然资源局'),
  ('zjj', '住房和城乡建设局'), ('jtj', '交通运输局'), ('wjj', '卫生健康委员会'),
  ('scjgj', '市场监督管理局'), ('sjj', '数据资源管理局');
INSERT INTO service_item
SELECT g,
       (ARRAY['fgj','gaj','mzj','sfj','czj','rsj','zrzyj','zjj','jtj','wjj','scjgj','sjj'])[1 + g % 12],
       '政务服务事项 #' || g,
       (ARRAY['行政许可','行政确认','公共服务','行政给付'])[1 + g % 4],
       g % 3 <> 0,
       timestamptz '2024-01-01 00:00+08' + g * interval '37 minutes'
FROM generate_series(1, 1200) AS g;
CREATE INDEX service_item_dept ON service_item(dept_code);
