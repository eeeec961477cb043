"""Configuration classes. `create_app` loads one, then COOP_* environment variables override it."""
import os
from pathlib import Path

from coop.i18n import N_  # marks the menu labels for extraction; base.html translates them

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("COOP_INSTANCE_DIR", BASE_DIR / "instance"))


class Config:
    SECRET_KEY = os.environ.get("COOP_SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "COOP_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'coop.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    # Attachments (原始凭证 scans): stored on disk under this folder, one subfolder per organization.
    ATTACHMENT_DIR = str(INSTANCE_DIR / "attachments")
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    PDF_FONT_FAMILY = '"Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif'
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: login throttling (coop.security, in memory per process): this many failed logins for one username, or from
    #: one IP address, within the window lock further attempts out for LOGIN_LOCKOUT_SECONDS
    LOGIN_THROTTLE_ENABLED = True
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_IP = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_LOCKOUT_SECONDS = 15 * 60
    #: None: coop.security.DEFAULT_CSP; "" sends no Content-Security-Policy
    CONTENT_SECURITY_POLICY = None
    # flask-smorest: the OpenAPI document is served at /api/v1/openapi.json
    API_TITLE = "coop API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    PAGE_SIZE = 50
    #: where people reach this site; used for links printed on PDFs when there is no request (CLI, demo)
    PUBLIC_URL = os.environ.get("COOP_PUBLIC_URL", "http://127.0.0.1:5000")
    PASSWORD_HASH_METHOD = "scrypt"
    #: the organization menu: (endpoint, label, permission needed to see it); every endpoint takes org_id
    ORG_NAV = (
        ("ledger.vouchers", N_("凭证"), "ledger.read"),
        ("ledger.accounts", N_("科目"), "ledger.read"),
        ("ledger.opening", N_("期初余额"), "ledger.read"),
        ("ledger.periods", N_("结账"), "ledger.read"),
        ("reports.index", N_("报表"), "ledger.read"),
        ("members.index", N_("成员"), "ledger.read"),
        ("shares.register", N_("股权"), "ledger.read"),
        ("distribution.index", N_("收益分配"), "ledger.read"),
        ("loans.index", N_("贷款贴息"), "ledger.read"),
        ("assets.index", N_("三资台账"), "ledger.read"),
        ("disclosure.index", N_("财务公开"), "ledger.read"),
        ("disclosure.published", N_("公开栏"), "member.portal"),
        ("distribution.mine", N_("我的分红"), "member.portal"),
    )
    #: pages above the organization level: (endpoint, label, roles that see the link)
    TOP_NAV = (
        ("auditor.desk", N_("经管站工作台"), ("township_auditor", "county_admin")),
        ("joint.index", N_("飞地抱团"), ("township_auditor", "county_admin")),
        ("loans.county", N_("贴息资金"), ("county_admin",)),
        ("admin.index", N_("县级管理"), ("county_admin",)),
    )


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    # test databases are thrown away: skip fsync and use a cheap password hash
    SQLITE_SYNCHRONOUS = "OFF"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = os.environ.get("COOP_TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    LOGIN_THROTTLE_ENABLED = False  # tests of the throttle turn it on


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = os.environ.get("COOP_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
