# Copy to instance/config.py and adjust. Names are those of the README's configuration table
# without the PB_ prefix. Environment variables (PB_*) override what is set here.

ENV = "production"
BASE_URL = "https://medborgarbudget.lund.se"
TRUSTED_PROXIES = 1  # one TLS-terminating proxy (nginx) in front of the app processes
# DATABASE_URL = "postgresql+psycopg://pb@db.lund.se/pb"
MAIL_SERVER = "smtp.lund.se"
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_FROM = "Lunds kommun <medborgarbudget@lund.se>"
