"""Configuration classes. `create_app` loads one, then COOP_* environment variables override it."""
import datetime as dt
import os
from pathlib import Path

from coop.core.text import N_  # marks the menu labels for extraction; base.html translates them

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("COOP_INSTANCE_DIR", BASE_DIR / "instance"))


class Config:
    SECRET_KEY = os.environ.get("COOP_SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "COOP_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'coop.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: PostgreSQL settings for the app's own connections (libpq `options`; "" for none). A request runs small
    #: queries: the planner splits a village-year's sums over a parallel worker whose start-up (~12 ms) costs more
    #: than the serial query (~3 ms, bench_month_end.py), and under load those workers take the cores other
    #: requests need. Behind pgbouncer (which refuses `options`), set it on the role instead (README).
    POSTGRES_OPTIONS = "-c max_parallel_workers_per_gather=0"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    # Attachments (原始凭证 scans): stored on disk under this folder, one subfolder per organization.
    ATTACHMENT_DIR = str(INSTANCE_DIR / "attachments")
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    #: the first family is the subset of Noto Sans CJK SC built by coop.documents.fonts (absent: the next serves)
    PDF_FONT_FAMILY = '"Coop Noto Sans CJK SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif'
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: how long "记住我" lasts; the server also refuses any login older than this (coop.web.auth)
    REMEMBER_COOKIE_DURATION = dt.timedelta(days=14)
    #: how many reverse proxies (nginx…) stand in front of the app; their X-Forwarded-For gives the client address
    #: used by the login throttle (0: none — the TCP peer is the client)
    TRUSTED_PROXIES = 0
    #: login throttling (coop.core.security, in memory per process): after this many failed logins for one username,
    #: or from one client address, within the window, each further failure waits LOGIN_BACKOFF_SECONDS, doubling
    #: (30 s, 1 min, 2 min…) up to LOGIN_LOCKOUT_SECONDS. An office shares one address: it gets more tries.
    LOGIN_THROTTLE_ENABLED = True
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_IP = 20
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_BACKOFF_SECONDS = 30
    LOGIN_LOCKOUT_SECONDS = 15 * 60
    #: roster files (check and import, web and API): rows per file, and uploads per user per hour — a roster check
    #: tells whether an ID number is registered anywhere, so it must not serve as a lookup service
    ROSTER_MAX_ROWS = 3000
    ROSTER_UPLOADS_PER_HOUR = 20
    #: look-ups of where a full 身份证号 is registered (township, county; web and API), per user per hour: each says
    #: whether the number is registered anywhere
    REGISTRATION_LOOKUPS_PER_HOUR = 60
    #: None: coop.core.security.DEFAULT_CSP; "" sends no Content-Security-Policy
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
    #: the audit chain's MAC key, kept outside the database (coop.services.audit): COOP_AUDIT_KEY ("id:hexsecret",
    #: several comma-separated, the last one current) or the file COOP_AUDIT_KEY_FILE (one "id hexsecret" a line,
    #: `coop audit-key rotate` appends). Development without either generates instance/audit.key.
    AUDIT_KEY = None
    AUDIT_KEY_FILE = None
    #: PDF rendering: at most this many at once per process; a request waits up to PDF_QUEUE_SECONDS for a slot,
    #: then gets 503 with Retry-After
    PDF_CONCURRENCY = 2
    PDF_QUEUE_SECONDS = 10
    #: rendered PDFs kept per process, by the digest of their HTML (0 turns the cache off)
    PDF_CACHE_BYTES = 64 * 1024 * 1024
    #: render PDFs in a process of the worker's own (coop.documents.render_process); off: in the worker itself
    PDF_RENDER_PROCESS = True
    #: hostile files: imports refuse a workbook whose unpacked size or row count exceeds these before parsing
    IMPORT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
    IMPORT_MAX_ROWS = 20000
    #: attachments: at most this many bytes in all per voucher
    ATTACHMENT_VOUCHER_QUOTA = 50 * 1024 * 1024
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
        ("cash.index", N_("报账出纳"), "ledger.read"),
        ("assets.index", N_("三资台账"), "ledger.read"),
        ("disclosure.index", N_("财务公开"), "ledger.read"),
        ("auditor.questions", N_("质询"), "ledger.read"),
        ("county.budget", N_("财务计划"), "ledger.read"),
        ("county.audit_cases", N_("审计"), "ledger.read"),
        ("disclosure.published", N_("公开栏"), "member.portal"),
        ("distribution.mine", N_("我的分红"), "member.portal"),
        ("county.audit_cases", N_("审计结果"), "member.portal"),
    )
    #: pages above the organization level: (endpoint, label, roles that see the link)
    TOP_NAV = (
        ("auditor.desk", N_("经管站工作台"), ("township_auditor", "county_admin")),
        ("joint.index", N_("飞地抱团"), ("township_auditor", "county_admin")),
        ("county.bands", N_("县级汇总"), ("township_auditor", "county_admin")),
        ("loans.county", N_("贴息资金"), ("county_admin",)),
        ("cash.township_queue", N_("报账审核"), ("township_auditor",)),
        ("cash.policy", N_("报账审批设置"), ("county_admin",)),
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
    AUDIT_KEY = "test:" + os.urandom(32).hex()  # a fresh key per test process


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = os.environ.get("COOP_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
