"""HTML error pages (the API answers JSON; see coop.api)."""
from __future__ import annotations

from flask import render_template

from coop.core.text import N_

TITLES = {400: N_("请求无效"), 401: N_("请先登录"), 403: N_("没有权限"), 404: N_("页面不存在"), 405: N_("不支持的操作"),
          409: N_("操作与当前状态冲突"), 413: N_("文件太大"), 422: N_("输入有误"), 500: N_("系统错误")}


def render_error_page(status: int, message: str | None = None):
    return render_template("error.html", status=status, title=TITLES.get(status, N_("出错了")), message=message), status
