# An SMTP server that keeps every email it accepts as a file (the project's own aiosmtpd sink,
# inovda_cli.mailsink, from the `inovda-cli` image): what catches the notification service's emails on a
# site without a registry, in place of Mailpit. scripts/images.sh builds it after the CLI image:
#   docker build --build-arg CLI_IMAGE=inovda-cli:dev -f deploy/docker/local/mailsink.Dockerfile \
#     -t inovda-mailsink:dev deploy/docker/local
# Each email is written to /var/lib/inovda/mail/<arrival>-<id>.eml (mount a folder there) and logged as a
# JSON line with its recipients and X-Inovda-Dedupe-Key.

ARG CLI_IMAGE=inovda-cli:dev
FROM ${CLI_IMAGE}
COPY mailsink.py /opt/inovda/mailsink.py
ENV MAIL_DIR=/var/lib/inovda/mail \
    SMTP_PORT=1025
LABEL org.opencontainers.image.title="inovda-mailsink" \
      org.opencontainers.image.description="SMTP sink for Inovda: every email kept as a file"
USER 10001:10001
EXPOSE 1025
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, smtplib; smtplib.SMTP('127.0.0.1', int(os.environ['SMTP_PORT']), timeout=3).quit()"]
CMD ["python", "/opt/inovda/mailsink.py"]
