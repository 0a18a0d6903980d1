"""Settings read once from the environment.

With nothing set, the app runs on the embedded default: SQLite under ``var/``, jobs run in
background threads of the web process, e-mail and SMS to the console, a generated development
secret. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and real RQ workers;
``DJANGO_ENV=production`` refuses to start without the values a real deployment needs.
"""

import secrets
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret() -> str:
    """A per-checkout secret kept under var/, so sessions survive restarts in development."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "Production mode needs SECRET_KEY (at least 50 random characters)."
        )
    for required in ("DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        if not env.str(required, default=""):
            raise ImproperlyConfigured(f"Production mode needs {required}.")
    DEBUG = False
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret()
    DEBUG = env.bool("DEBUG", default=True)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "apps.core.admin_config.StaffAdminConfig",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_rq",
    "import_export",
    "simple_history",
    "axes",
    "apps.core",
    "apps.accounts",
    "apps.incidents",
    "apps.backups",
    "apps.catalog",
    "apps.manual_orders",
    "apps.inventory_counts",
    "apps.customer_care",
    "apps.drills",
    "apps.evaluations",
    "apps.monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "recovery_site.csp.SiteCSPMiddleware",
    # /status/ from its cache before sessions, CSRF and auth (apps.customer_care, issue #15)
    "apps.customer_care.outreach_middleware.StatusPageCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "apps.core.middleware.QueueUnavailableMiddleware",
]

ROOT_URLCONF = "recovery_site.urls"
WSGI_APPLICATION = "recovery_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.navigation",
            ],
        },
    },
]

# --- databases -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'recovery_site.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# --- i18n --------------------------------------------------------------------------------------
LANGUAGE_CODE = env.str("DEFAULT_LANGUAGE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# locale_vendor: what third-party catalogues leave untranslated (makemessages writes only to locale/).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- jobs ----------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# "rq": real RQ workers; "thread": in-process background threads (embedded default);
# "sync": run at once in the caller (tests that do not exercise workers).
JOB_RUNNER = env.str("JOB_RUNNER", default="rq" if REDIS_URL else "thread")
JOB_HEARTBEAT_SECONDS = env.int("JOB_HEARTBEAT_SECONDS", default=5)
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=60)
# Intervals of registered schedules (apps.core.schedules) changed per deployment, in seconds:
# SCHEDULE_INTERVALS='{"backups.due": 120}'.
SCHEDULE_INTERVALS = env.json("SCHEDULE_INTERVALS", default={})
_rq_queue = {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 6 * 3600}
RQ_QUEUES = {"default": dict(_rq_queue), "backups": dict(_rq_queue)}
RQ_SHOW_ADMIN_LINK = False

# --- evaluations ---------------------------------------------------------------------------------
# Improvement actions: owners are reminded this many days before the due date (and once when
# overdue); a periodic review covers at most this many days.
EVALUATION_REMINDER_DAYS_BEFORE = env.int("EVALUATION_REMINDER_DAYS_BEFORE", default=3)
EVALUATION_REVIEW_MAX_DAYS = env.int("EVALUATION_REVIEW_MAX_DAYS", default=731)

# --- uploads and exports -----------------------------------------------------------------------
# Uploaded spreadsheets are checked on a worker, row by row, against these limits while they are
# read (apps/core/tabular.py): beyond them a file is refused with a message naming the limit.
# The defaults keep a worker under 256 MiB for any file within them (tests/*/test_upload_memory.py).
UPLOAD_MAX_ROWS = env.int("UPLOAD_MAX_ROWS", default=100_000)
UPLOAD_MAX_COLUMNS = env.int("UPLOAD_MAX_COLUMNS", default=50)
# Rows × columns (the header's width): what the check holds in memory grows with it.
UPLOAD_MAX_CELLS = env.int("UPLOAD_MAX_CELLS", default=600_000)
# What an .xlsx (a zip) may unpack to, and the largest CSV.
UPLOAD_MAX_UNCOMPRESSED_BYTES = env.int("UPLOAD_MAX_UNCOMPRESSED_BYTES", default=20 * 1024 * 1024)
# The admin's exports use the same formats as the pages: formulas are neutralised.
from apps.core.tabular import EXPORT_FORMATS as _SAFE_EXPORT_FORMATS  # noqa: E402

EXPORT_FORMATS = list(_SAFE_EXPORT_FORMATS)

# --- backups -------------------------------------------------------------------------------------
# The order system being protected lives in its own database, reached by URL (not a Django
# connection): the backup engine works on table names and introspection only.
ORDER_SYSTEM_DATABASE_URL = env.str(
    "ORDER_SYSTEM_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'order_system.sqlite3'}"
)
ORDER_SYSTEM_LOG_DIR = env.str("ORDER_SYSTEM_LOG_DIR", default=str(VAR_DIR / "order_system_logs"))
BACKUP_LOCAL_DIR = env.str("BACKUP_LOCAL_DIR", default=str(VAR_DIR / "backups" / "local"))
BACKUP_REMOTE_DIR = env.str("BACKUP_REMOTE_DIR", default=str(VAR_DIR / "backups" / "remote"))
# "plan": 20210801订单数据实时备份.bak; "ascii": 20210801-orders-realtime.bak
BACKUP_NAME_STYLE = env.str("BACKUP_NAME_STYLE", default="plan")
# Master keys: "kid:base64key,..." (first = current) and/or a key file outside the repository.
BACKUP_MASTER_KEYS = env.str("BACKUP_MASTER_KEYS", default="")
BACKUP_KEY_FILE = env.str(
    "BACKUP_KEY_FILE", default="" if PRODUCTION else str(VAR_DIR / "backup.keys")
)


# zstd level: -1 makes files ~1.06x pg_dump -Fc's (level -2: 1.35x) for about the same
# backup CPU; verify takes about as long in seconds (bench/README.md, "Backups").
BACKUP_COMPRESSION_LEVEL = env.int("BACKUP_COMPRESSION_LEVEL", default=-1)
# Bytes per second read from the order system during a backup; 0 = as fast as it goes.
BACKUP_MAX_RATE = env.int("BACKUP_MAX_RATE", default=0)
# Verification checks (SQL edited in the admin) are stopped after this long.
BACKUP_CHECK_TIMEOUT_MS = env.int("BACKUP_CHECK_TIMEOUT_MS", default=30_000)


# Scratch databases for restore rehearsals, by name: {"rehearsal": "postgres://.../db"}.
def _default_scratch_targets() -> dict[str, str]:
    url = ORDER_SYSTEM_DATABASE_URL
    if url.startswith("sqlite:"):
        return {"rehearsal": f"sqlite:///{VAR_DIR / 'order_system_rehearsal.sqlite3'}"}
    return {
        "rehearsal": url.rsplit("/", 1)[0]
        + "/"
        + url.rsplit("/", 1)[1].split("?")[0]
        + "_rehearsal"
    }


BACKUP_SCRATCH_TARGETS = env.json("BACKUP_SCRATCH_TARGETS", default=_default_scratch_targets())
# The remote copy goes to a Django storage; S3 or SFTP through django-storages by setting
# BACKUP_REMOTE_STORAGE to its backend path and BACKUP_REMOTE_OPTIONS to a JSON object.
STORAGES["backups_remote"] = {
    "BACKEND": env.str(
        "BACKUP_REMOTE_STORAGE", default="django.core.files.storage.FileSystemStorage"
    ),
    "OPTIONS": env.json("BACKUP_REMOTE_OPTIONS", default={"location": BACKUP_REMOTE_DIR}),
}

# Retention: the local store keeps at most this many newest copies per policy (the remote store
# keeps the policy's "copies kept"); old files leave the local store first.
BACKUP_LOCAL_KEEP = env.int("BACKUP_LOCAL_KEEP", default=4)

# The change journal (PostgreSQL order systems): the logical replication slot it reads, how
# often it looks for new commits, and the slot's retained WAL past which an alarm is raised.
JOURNAL_SLOT_NAME = env.str("JOURNAL_SLOT_NAME", default="recovery_site_journal")
JOURNAL_POLL_SECONDS = env.float("JOURNAL_POLL_SECONDS", default=0.2)
JOURNAL_MAX_CHANGES = env.int("JOURNAL_MAX_CHANGES", default=20000)
JOURNAL_LAG_ALARM_BYTES = env.int("JOURNAL_LAG_ALARM_BYTES", default=1024**3)
JOURNAL_STALE_SECONDS = env.int("JOURNAL_STALE_SECONDS", default=120)

# --- scheduler -------------------------------------------------------------------------------
# Per-deployment intervals of registered schedules, seconds: {"backups.due": 120}.
SCHEDULE_INTERVALS = env.json("SCHEDULE_INTERVALS", default={})

# --- incidents -------------------------------------------------------------------------------
# Upgrade readiness: every backup scope needs a complete, verified backup this recent (hours).
READINESS_BACKUP_MAX_AGE_HOURS = env.int("READINESS_BACKUP_MAX_AGE_HOURS", default=24)
# Drills (apps.drills): the readiness check's backup item needs a passing restore rehearsal this
# recent; the schedule rehearses this often; certificate reminders go out this many days before.
DRILLS_REHEARSAL_MAX_AGE_HOURS = env.int("DRILLS_REHEARSAL_MAX_AGE_HOURS", default=24 * 7)
DRILLS_REHEARSAL_EVERY_HOURS = env.int("DRILLS_REHEARSAL_EVERY_HOURS", default=24 * 7)
DRILLS_CERTIFICATE_REMINDER_DAYS = env.int("DRILLS_CERTIFICATE_REMINDER_DAYS", default=30)

# --- manual orders -----------------------------------------------------------------------------
# Short stock warns the operator; set to true to refuse the order instead.
MANUAL_ORDERS_BLOCK_ON_NO_STOCK = env.bool("MANUAL_ORDERS_BLOCK_ON_NO_STOCK", default=False)
# The same customer with the same items within this window is flagged as a likely duplicate.
MANUAL_ORDERS_DUPLICATE_WINDOW_MINUTES = env.int(
    "MANUAL_ORDERS_DUPLICATE_WINDOW_MINUTES", default=30
)

# --- customer care ------------------------------------------------------------------------------
# The care mailbox the poller reads: imap://user:password@host:143/INBOX (imaps:// for TLS).
CARE_IMAP_URL = env.str("CARE_IMAP_URL", default="")
# At most this many messages per poll; a message larger than this is rejected with a reason.
CARE_IMAP_BATCH = env.int("CARE_IMAP_BATCH", default=500)
CARE_MAIL_MAX_BYTES = env.int("CARE_MAIL_MAX_BYTES", default=10 * 1024 * 1024)
# Response targets (minutes) per priority when no target is set in the app:
# {"urgent": [first response, resolution], ...}.
CARE_RESPONSE_TARGETS = env.json(
    "CARE_RESPONSE_TARGETS",
    default={
        "urgent": [30, 240],
        "high": [60, 480],
        "normal": [240, 1440],
        "low": [480, 2880],
    },
)
# Business hours of cases without a team ("HH:MM-HH:MM", days 0 = Monday).
CARE_BUSINESS_HOURS = env.str("CARE_BUSINESS_HOURS", default="09:00-18:00")
CARE_BUSINESS_DAYS = env.list("CARE_BUSINESS_DAYS", cast=int, default=[0, 1, 2, 3, 4])
# A case this close to its target is flagged on the queue and its lead told (once).
CARE_BREACH_WARNING_MINUTES = env.int("CARE_BREACH_WARNING_MINUTES", default=30)

# --- monitoring ---------------------------------------------------------------------------------
# Probes run every this many seconds (the scheduler; `manage.py run_probes` runs one round).
MONITORING_PROBE_SECONDS = env.int("MONITORING_PROBE_SECONDS", default=15)
# The order-system probes' connect and statement timeout: a slower answer is a failure.
MONITORING_DB_TIMEOUT_MS = env.int("MONITORING_DB_TIMEOUT_MS", default=3000)
# Orders per minute are compared over this window with the same window a week earlier.
MONITORING_ORDER_RATE_WINDOW_MINUTES = env.int("MONITORING_ORDER_RATE_WINDOW_MINUTES", default=5)
# Failed payments: orders of this window (ending a minute ago) that have no payment.
MONITORING_PAYMENT_WINDOW_MINUTES = env.int("MONITORING_PAYMENT_WINDOW_MINUTES", default=15)
# Which files of ORDER_SYSTEM_LOG_DIR are read, and what makes a line an error line (a regex).
MONITORING_LOG_PATTERN = env.str("MONITORING_LOG_PATTERN", default="*.log*")
MONITORING_LOG_ERROR_PATTERN = env.str(
    "MONITORING_LOG_ERROR_PATTERN", default=r"\b(?:ERROR|CRITICAL|FATAL)\b"
)
# The change journal's logical replication slot on the order system (its lag is a probe).
MONITORING_JOURNAL_SLOT = env.str("MONITORING_JOURNAL_SLOT", default=JOURNAL_SLOT_NAME)
# An alarm that resolved less than this long ago and fires again is reopened, not a new alarm.
MONITORING_FLAP_MINUTES = env.int("MONITORING_FLAP_MINUTES", default=10)
# /metrics answers to `Authorization: Bearer <token>`; with no token, only to loopback clients.
MONITORING_METRICS_TOKEN = env.str("MONITORING_METRICS_TOKEN", default="")
# /health/: a backup store with less free space than this is a failure.
MONITORING_MIN_FREE_MB = env.int("MONITORING_MIN_FREE_MB", default=1024)
# Samples older than this are deleted by the probe rounds (alarms keep their own evidence).
MONITORING_SAMPLE_RETENTION_DAYS = env.int("MONITORING_SAMPLE_RETENTION_DAYS", default=14)
# Problem reports: the largest screenshot accepted.
MONITORING_SCREENSHOT_MAX_MB = env.int("MONITORING_SCREENSHOT_MAX_MB", default=5)
# Outreach (notices, status page, surveys). Notices go out at this many messages a second per
# notice (the SMS gateway's contracted rate) and a failed message is tried this many times.
CARE_NOTICE_RATE_PER_SECOND = env.float("CARE_NOTICE_RATE_PER_SECOND", default=10.0)
CARE_NOTICE_MAX_ATTEMPTS = env.int("CARE_NOTICE_MAX_ATTEMPTS", default=3)
# Where links in customers' messages point (surveys, opt-outs): the public address of the site.
CARE_PUBLIC_URL = env.str("CARE_PUBLIC_URL", default="http://localhost:8000")
CARE_SURVEY_MAX_AGE_DAYS = env.int("CARE_SURVEY_MAX_AGE_DAYS", default=14)
CARE_OPT_OUT_MAX_AGE_DAYS = env.int("CARE_OPT_OUT_MAX_AGE_DAYS", default=365)
# Survey scores at or below this open a follow-up task for the lead.
CARE_SURVEY_FOLLOW_UP_SCORE = env.int("CARE_SURVEY_FOLLOW_UP_SCORE", default=2)
# /status/ is served from this cache (shared by every web process when Redis is there).
CARE_STATUS_CACHE_SECONDS = env.int("CARE_STATUS_CACHE_SECONDS", default=300)

# --- stock counts --------------------------------------------------------------------------------
# A bin holding more than this many units of one product must be confirmed by the clerk.
INVENTORY_PLAUSIBLE_MAX_PER_BIN = env.int("INVENTORY_PLAUSIBLE_MAX_PER_BIN", default=100_000)
# A counted line differing from its expected quantity by more than this percentage (the default
# of new sessions) and by more than INVENTORY_RECOUNT_MIN_UNITS units needs a recount.
INVENTORY_RECOUNT_THRESHOLD_PCT = Decimal(env.str("INVENTORY_RECOUNT_THRESHOLD_PCT", default="5"))
INVENTORY_RECOUNT_MIN_UNITS = Decimal(env.str("INVENTORY_RECOUNT_MIN_UNITS", default="0"))
# The same clerk scanning the same line again within this many seconds must confirm it.
INVENTORY_DUPLICATE_WINDOW_SECONDS = env.int("INVENTORY_DUPLICATE_WINDOW_SECONDS", default=120)

# --- notifications -------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="recovery-site@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_BACKEND = env.str("SMS_BACKEND", default="apps.core.sms.ConsoleSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))

# --- security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Production over plain HTTP with no TLS proxy in front, for a local smoke test only: no redirect
# to HTTPS, no secure-only cookies, no HSTS. Off by default; `check --deploy` warns when it is on.
INSECURE_HTTP = env.bool("INSECURE_HTTP", default=False)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not INSECURE_HTTP)
    SESSION_COOKIE_SECURE = not INSECURE_HTTP
    CSRF_COOKIE_SECURE = not INSECURE_HTTP
    SECURE_HSTS_SECONDS = 0 if INSECURE_HTTP else env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy on every response (django-csp): scripts only from our own static files,
# never inline. Styles allow inline `style` attributes (progress bars, table widths) and the
# indicator styles htmx injects; images allow the data: SVGs Bootstrap's CSS carries.
# recovery_site.csp relaxes it for third-party admin pages it does not control.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Password reset: links stay valid for an hour; requests are limited per e-mail address and per
# client address (apps.accounts.ratelimit, on the "ratelimit" cache).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=10)
PASSWORD_RESET_LIMIT_WINDOW_SECONDS = env.int("PASSWORD_RESET_LIMIT_WINDOW_SECONDS", default=3600)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The public status page (apps.customer_care): one copy for every web process when Redis is
    # there, so a care lead's edit reaches every process at once.
    "status": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "recovery_site:status",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "status"}
    ),
    # Counters shared by every web process when Redis is there; per process otherwise.
    "ratelimit": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "recovery_site:ratelimit",
            # A Redis that accepts but never answers must not hang the public reset page: the
            # limiter then lets the request through (apps.accounts.ratelimit).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}
    ),
}


def _forbidden_without_traceback(record) -> bool:
    """A 403 is the permission matrix doing its job: one line in the log, not a traceback."""
    if getattr(record, "status_code", None) == 403:
        record.exc_info = None
        record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "forbidden_without_traceback": {
            "()": "django.utils.log.CallbackFilter",
            "callback": _forbidden_without_traceback,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"filters": ["forbidden_without_traceback"]},
    },
}

APP_NAME = _("Recovery site")
