"""Settings, read from the environment only.

With nothing set this is the *embedded default*: a SQLite file and a Celery broker on the local
filesystem, so `make run` needs no server. Production sets DATABASE_URL, CELERY_BROKER_URL,
SECRET_KEY, DEBUG=False and ALLOWED_HOSTS (see docker-compose.yml and .env.example).
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Runtime state of the embedded default (SQLite file, broker folders, dev secret) lives here.
VAR_DIR = Path(env.str("SEJAGAD_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)


def _secret_key() -> str:
    if key := env.str("SECRET_KEY", default=""):
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY wajib diisi bila DEBUG=False.")
    # A development secret, generated once and kept so sessions survive a restart.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "sejagad.apps.SejagadConfig",
    "sejagad.apps.SejagadAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "newborns.apps.NewbornsConfig",
    "enrollment.apps.EnrollmentConfig",
    "coverage",
    # Failed sign-ins are counted per user and per client address (login page, admin, API token).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files keep their long cache; every page and API answer passes here.
    "sejagad.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The district's language unless the user picked another; never the browser's Accept-Language.
    "sejagad.middleware.DistrictLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sejagad.urls"
WSGI_APPLICATION = "sejagad.wsgi.application"

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
                "sejagad.context_processors.navigation",
                "enrollment.context_processors.notifications",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sejagad.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL, immediate transactions and a busy timeout keep
    # "database is locked" away when a job runs during a request.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file, not shared-cache memory, so a test's Celery worker thread reads what the test committed.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-sejagad.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: PostgreSQL compiles every statement whose estimated cost passes jit_above_cost, and the daily job's
    # statements, the digest and the exports spent more compiling (0.1 to 1.3 s each) than they saved
    # (docs/BENCHMARKS.md). DATABASE_JIT=on gives it back.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit={env.str('DATABASE_JIT', default='off')}".strip()
    # Parameters bound by the server, and a statement run five times on a connection prepared (psycopg), so that
    # PostgreSQL stops planning it again: the worklist's page query took 1.1 ms to plan and 0.3 ms to run, and a
    # national list page's load test served 12 to 17% more pages (docs/BENCHMARKS.md). DATABASE_PREPARE=off
    # behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
    if env.bool("DATABASE_PREPARE", default=True):
        options["server_side_binding"] = True
        options["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "sejagad.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="id")
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Makassar")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from the finders, but wants the folder
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Worklist XLSX files built by a worker (personal data): outside static and media, read only by their
# owner's download view, deleted by the sweep after EXPORT_FILE_HOURS.
EXPORT_FILES_DIR = Path(env.str("EXPORT_FILES_DIR", default=str(VAR_DIR / "exports")))
EXPORT_FILE_HOURS = env.int("EXPORT_FILE_HOURS", default=24)

# --- Security (production: DEBUG=False) -----------------------------------------------------------
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind the reverse proxy that terminates TLS (nginx in front of gunicorn).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
# How many reverse proxies (nginx) stand in front of the app and append to X-Forwarded-For. 0 (the
# embedded default, no proxy): the header is ignored, since any client could write it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Failed sign-ins (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name, or from one client
# address, sign-in is refused, even with the right password, until LOGIN_COOLOFF_MINUTES have passed.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout do not push its end further: "coba lagi dalam 15 menit" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "sejagad.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "sejagad.auth.lockout_response"

# A Content-Security-Policy with no inline script (sejagad.middleware); the API docs page gets its own.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
# Every job's hard time limit in seconds (the soft limit comes 30 s earlier, so the job can record why it
# stopped). A job never runs longer; the sweeper takes a job silent for longer than its limit as dead.
JOB_TIME_LIMITS = {
    "coverage.tasks.preview_import": env.int("COVERAGE_IMPORT_TIME_LIMIT", default=10 * 60),
    "coverage.tasks.commit_import": env.int("COVERAGE_IMPORT_TIME_LIMIT", default=10 * 60),
    "coverage.tasks.compute_coverage": env.int("COVERAGE_ROLLUP_TIME_LIMIT", default=10 * 60),
    "coverage.tasks.sweep_stuck_imports": env.int("SWEEP_TIME_LIMIT", default=2 * 60),
    "enrollment.tasks.catch_up_flag_deadlines": env.int("SWEEP_TIME_LIMIT", default=2 * 60),
    "enrollment.tasks.flag_deadlines": env.int("FLAG_DEADLINES_TIME_LIMIT", default=10 * 60),
    "enrollment.tasks.email_notifications": env.int("EMAIL_NOTIFICATIONS_TIME_LIMIT", default=10 * 60),
    # 1 M rows at openpyxl's ~5,700 rows/s is about 3 minutes; room for a slow disk and a busy worker.
    "enrollment.tasks.build_worklist_export": env.int("EXPORT_JOB_TIME_LIMIT", default=15 * 60),
    "enrollment.tasks.sweep_export_files": env.int("SWEEP_TIME_LIMIT", default=2 * 60),
    "enrollment.tasks.send_reminders": env.int("REMINDER_JOB_TIME_LIMIT", default=5 * 60),
}
# Any other task (none today) gets this one.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=10 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
if not CELERY_BROKER_URL.startswith("filesystem://"):
    # Redis hands an unacknowledged message to another worker after the visibility timeout: just above the
    # longest job, so a running job is never delivered twice, and a job whose worker was killed (acks_late)
    # runs again within minutes, not hours. Workers look for such messages every restore interval.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int(
            "CELERY_VISIBILITY_TIMEOUT", default=max([*JOB_TIME_LIMITS.values(), CELERY_TASK_TIME_LIMIT]) + 60
        ),
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=30),
        "unacked_restore_throttle": 1,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker child that grew past this (KiB) is replaced after its task: pandas frees memory to the allocator,
# not always to the system. Each XLSX is also capped by its unpacked size before it is read
# (COVERAGE_IMPORT_MAX_XLSX_UNPACKED_BYTES), which bounds what one task can take.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=1024 * 1024)
# A job killed or lost this many times is marked failed instead of being queued again (a file that kills
# its worker would otherwise loop for ever).
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every periodic job, in one place.
DEADLINE_FLAG_HOUR = env.int("DEADLINE_FLAG_HOUR", default=6)
# PostgreSQL's work_mem for the daily flag job's transaction: its sorts and hashes of a few hundred thousand
# rows stay in memory instead of spilling to disk (docs/BENCHMARKS.md). One job at a time, so 64 MB is cheap.
FLAG_JOB_WORK_MEM = env.str("FLAG_JOB_WORK_MEM", default="64MB")
CELERY_BEAT_SCHEDULE = {
    "flag-deadlines-daily": {
        "task": "enrollment.tasks.flag_deadlines",
        "schedule": crontab(hour=DEADLINE_FLAG_HOUR, minute=0),
    },
    "coverage-nightly-rollup": {"task": "coverage.tasks.compute_coverage", "schedule": crontab(hour=1, minute=30)},
    # Requeues imports whose worker died or whose queueing failed, and roll-ups that never ran.
    "sweep-stuck-imports": {
        "task": "coverage.tasks.sweep_stuck_imports",
        "schedule": env.int("SWEEP_EVERY_SECONDS", default=300),
    },
    # Runs the daily flag job when its run at DEADLINE_FLAG_HOUR was lost (broker down, beat stopped).
    "flag-deadlines-catch-up": {"task": "enrollment.tasks.catch_up_flag_deadlines", "schedule": crontab(minute=15)},
    # Deletes XLSX exports older than EXPORT_FILE_HOURS and fails jobs whose worker vanished.
    "sweep-export-files": {"task": "enrollment.tasks.sweep_export_files", "schedule": crontab(minute=45)},
    # Queues the family reminders that fall due and sends a batch; does nothing outside REMINDER_HOURS.
    "send-reminders": {
        "task": "enrollment.tasks.send_reminders",
        "schedule": env.int("REMINDER_SEND_EVERY_SECONDS", default=600),
    },
}

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SEJAGAD SEHAT <noreply@sejagad.local>")

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an API client without credentials gets 401 (sign in again), not 403.
        "sejagad.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
# An API token is refused this many hours after it was issued (a working day, like SESSION_COOKIE_AGE);
# the client signs in again at POST /api/auth/token/ and gets a new one.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=12)
SPECTACULAR_SETTINGS = {
    "TITLE": "SEJAGAD SEHAT API",
    "DESCRIPTION": "Pencatatan bayi baru lahir, kepesertaan JKN dan cakupan UHC kabupaten.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema names every field holding a NIK: signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"SegmentEnum": "newborns.models.Segment"},
}

# Spreadsheet cells from the admin's exports never run as formulas.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# --- Domain -------------------------------------------------------------------------------------
# Days before a deadline at which a baby turns PERHATIAN, MENDESAK and KRITIS.
# A bidan may correct a birth she recorded at her facility for this many days; Dinkes staff at any time.
BIRTH_CORRECTION_DAYS = env.int("BIRTH_CORRECTION_DAYS", default=30)
DEADLINE_WARNING_DAYS = [int(d) for d in env.list("DEADLINE_WARNING_DAYS", default=["30", "14", "7"])]
# Immediate notices of babies entering Kritis, per recipient a day; the rest are in the daily digest.
KRITIS_NOTICES_PER_DAY = env.int("KRITIS_NOTICES_PER_DAY", default=10)
# Lists count at most this many rows; past it they say "lebih dari 10.000" (a national table has millions).
LIST_COUNT_LIMIT = env.int("LIST_COUNT_LIMIT", default=10_000)
# The dashboard's figures and first babies at risk are cached per process under the summary's version (a write
# makes a new one), per region, period and scope; this only bounds how long an unused entry stays.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=600)
# Where users open the site: the links in e-mails sent by background jobs, which have no request.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# The district this installation serves (Kemendagri code); demo data and dashboards start here.
DISTRICT_CODE = env.str("DISTRICT_CODE", default="73.22")
# Demo users (password "sejagad-demo") exist only on the embedded default, or when asked for.
DEMO_USERS = env.bool("DEMO_USERS", default=DATABASES["default"]["ENGINE"].endswith("sqlite3"))

# --- Reminders to families (WhatsApp/SMS) --------------------------------------------------------
# Messages go out only between these local hours (TIME_ZONE), at most REMINDERS_PER_DAY a day in all.
REMINDER_HOURS = (env.int("REMINDER_HOUR_START", default=8), env.int("REMINDER_HOUR_END", default=20))
REMINDERS_PER_DAY = env.int("REMINDERS_PER_DAY", default=1000)
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=50)
# A failed send is tried again after 5, 10, 20, ... minutes, up to REMINDER_MAX_ATTEMPTS times in all.
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=5)
REMINDER_RETRY_SECONDS = env.int("REMINDER_RETRY_SECONDS", default=300)
# A step missed (beat down, outside hours, the cap) is still sent this many days after its day, never later.
REMINDER_CATCH_UP_DAYS = env.int("REMINDER_CATCH_UP_DAYS", default=3)
# How long a sender holds the rows it claimed before another may take them (above a batch's sending time).
REMINDER_CLAIM_SECONDS = env.int("REMINDER_CLAIM_SECONDS", default=600)
# What the messages tell the family (placeholders {kantor_dukcapil} and {kanal_bpjs}, and the card).
REMINDER_DUKCAPIL_OFFICE = env.str(
    "REMINDER_DUKCAPIL_OFFICE", default="Kantor Disdukcapil Kabupaten Luwu Utara di Masamba, atau petugas desa"
)
REMINDER_BPJS_CHANNELS = env.str(
    "REMINDER_BPJS_CHANNELS",
    default="aplikasi Mobile JKN, WhatsApp PANDAWA 0811-8165-165, atau kantor BPJS Kesehatan terdekat",
)
# The gateway: "file" (the embedded default: writes what would be sent under SEJAGAD_VAR_DIR/reminders) or
# "http" (any WhatsApp/SMS gateway taking a JSON POST; see README "Menghubungkan gateway").
REMINDER_GATEWAY = env.str("REMINDER_GATEWAY", default="file")
REMINDER_FILES_DIR = Path(env.str("REMINDER_FILES_DIR", default=str(VAR_DIR / "reminders")))
REMINDER_GATEWAY_URL = env.str("REMINDER_GATEWAY_URL", default="")
REMINDER_GATEWAY_TOKEN = env.str("REMINDER_GATEWAY_TOKEN", default="")
REMINDER_GATEWAY_AUTH_HEADER = env.str("REMINDER_GATEWAY_AUTH_HEADER", default="Authorization")
REMINDER_GATEWAY_AUTH_VALUE = env.str("REMINDER_GATEWAY_AUTH_VALUE", default="Bearer {token}")
# The JSON body; string values may hold {to} (+62...), {to_local} (08...), {to_digits} (62...), {message},
# {ref} (our id of the message) and {token}.
REMINDER_GATEWAY_BODY = env.str(
    "REMINDER_GATEWAY_BODY", default='{"to": "{to}", "message": "{message}", "ref": "{ref}"}'
)
# Where the gateway's answer holds its message id (dots go down: "data.id", "messages.0.id").
REMINDER_GATEWAY_ID_FIELD = env.str("REMINDER_GATEWAY_ID_FIELD", default="id")
REMINDER_GATEWAY_TIMEOUT = env.float("REMINDER_GATEWAY_TIMEOUT", default=10.0)
# The gateway's calls back (delivery status, replies) must carry this secret (header X-Webhook-Secret or
# ?secret=); empty refuses every call.
REMINDER_WEBHOOK_SECRET = env.str("REMINDER_WEBHOOK_SECRET", default="")
REMINDER_STATUS_ID_FIELD = env.str("REMINDER_STATUS_ID_FIELD", default="id")
REMINDER_STATUS_FIELD = env.str("REMINDER_STATUS_FIELD", default="status")
REMINDER_INBOUND_FROM_FIELD = env.str("REMINDER_INBOUND_FROM_FIELD", default="from")
REMINDER_INBOUND_TEXT_FIELD = env.str("REMINDER_INBOUND_TEXT_FIELD", default="message")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- SATUSEHAT (issue #14) ----------------------------------------------------------------------
# The Ministry of Health's FHIR R4 platform. Without SATUSEHAT_CLIENT_ID, SATUSEHAT_CLIENT_SECRET and
# SATUSEHAT_ORGANIZATION_ID nothing is sent: births wait in the outbox and pages say "belum dikonfigurasi".
SATUSEHAT_ENV = env.str("SATUSEHAT_ENV", default="sandbox")
_SATUSEHAT_HOSTS = {
    "sandbox": "https://api-satusehat-stg.dto.kemkes.go.id",
    "production": "https://api-satusehat.kemkes.go.id",
}
SATUSEHAT_AUTH_URL = env.str(
    "SATUSEHAT_AUTH_URL", default=_SATUSEHAT_HOSTS.get(SATUSEHAT_ENV, _SATUSEHAT_HOSTS["sandbox"]) + "/oauth2/v1"
)
SATUSEHAT_BASE_URL = env.str(
    "SATUSEHAT_BASE_URL", default=_SATUSEHAT_HOSTS.get(SATUSEHAT_ENV, _SATUSEHAT_HOSTS["sandbox"]) + "/fhir-r4/v1"
)
SATUSEHAT_CLIENT_ID = env.str("SATUSEHAT_CLIENT_ID", default="")
SATUSEHAT_CLIENT_SECRET = env.str("SATUSEHAT_CLIENT_SECRET", default="")
SATUSEHAT_ORGANIZATION_ID = env.str("SATUSEHAT_ORGANIZATION_ID", default="")
SATUSEHAT_TIMEOUT_SECONDS = env.float("SATUSEHAT_TIMEOUT_SECONDS", default=15)
# A failed send is tried again after 1, 2, 4, ... times this many seconds, at most SATUSEHAT_MAX_ATTEMPTS times.
SATUSEHAT_RETRY_SECONDS = env.int("SATUSEHAT_RETRY_SECONDS", default=60)
SATUSEHAT_MAX_ATTEMPTS = env.int("SATUSEHAT_MAX_ATTEMPTS", default=6)
# A row left "sending" this long by a worker that died is claimed again.
SATUSEHAT_LEASE_SECONDS = env.int("SATUSEHAT_LEASE_SECONDS", default=300)
JOB_TIME_LIMITS["newborns.tasks.send_to_satusehat"] = env.int("SATUSEHAT_TIME_LIMIT", default=2 * 60)
JOB_TIME_LIMITS["newborns.tasks.sweep_satusehat"] = env.int("SWEEP_TIME_LIMIT", default=2 * 60)
# Sends what waits in the outbox (births queued while the broker was down, retries that are due).
CELERY_BEAT_SCHEDULE["sweep-satusehat"] = {"task": "newborns.tasks.sweep_satusehat", "schedule": 300}
