"""HTML error pages (the API answers JSON; see coop.api)."""
from __future__ import annotations

from flask import render_template

TITLES = {400: "请求无效", 401: "请先登录", 403: "没有权限", 404: "页面不存在", 405: "不支持的操作",
          409: "操作与当前状态冲突", 413: "文件太大", 422: "输入有误", 500: "系统错误"}


def render_error_page(status: int, message: str | None = None):
    return render_template("error.html", status=status, title=TITLES.get(status, "出错了"), message=message), status
