"""gettext catalogs (``zh_CN/LC_MESSAGES/<package>.po`` and the compiled ``.mo``) and the
maintainer's tool that keeps them (``python -m govcloud.locale.catalog``)."""
