#!/usr/bin/env bash
# Set up everything faxcore and its tests need on Debian 12, as root.
# Idempotent: a second run installs nothing and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc make
  debootstrap
  libspandsp-dev libtiff-tools ghostscript poppler-utils fonts-dejavu-core librsvg2-bin
  libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui
  sox espeak-ng ffmpeg
  postgresql mosquitto
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The virtual environment uses Debian's own Python 3.11.
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  /usr/bin/python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e '.[test]'
  touch "$stamp"
fi

# PostgreSQL on 127.0.0.1:5432 (already running on CI machines).
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  cluster=$(ls /etc/postgresql | head -n1)
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# A role and database for the tests, reachable by password whatever pg_hba says.
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'faxcore') THEN
    CREATE ROLE faxcore LOGIN CREATEDB PASSWORD 'faxcore';
  END IF;
END $$;
SQL
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='faxcore_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O faxcore faxcore_test"

# Mosquitto on 127.0.0.1:1883 (already running on CI machines).
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 20); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.5; done
fi
# faxcore's bus: a second Mosquitto listener that requires a login (password
# file, generated password) and applies deploy/mosquitto/faxcore.acl, so no
# other local user can publish events faxcore would act on. The anonymous
# 127.0.0.1:1883 above is left as it is (the test suite starts its own
# authenticating brokers). Point faxcore at it with
#   mqtt: {url: mqtt://127.0.0.1:1884, username: faxcore, password: <faxcore.password>}
MQTT_ETC=/etc/faxcore/mosquitto
MQTT_PORT=${FAXCORE_SETUP_MQTT_PORT:-1884}
install -d -m 0750 -g mosquitto "$MQTT_ETC"
install -d -m 0700 -o mosquitto /var/lib/faxcore-mosquitto
if [ ! -s "$MQTT_ETC/faxcore.password" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$MQTT_ETC/faxcore.password")
fi
if [ ! -s "$MQTT_ETC/passwd" ]; then
  (umask 027; mosquitto_passwd -b -c "$MQTT_ETC/passwd" faxcore "$(cat "$MQTT_ETC/faxcore.password")")
  chgrp mosquitto "$MQTT_ETC/passwd"
fi
install -m 0640 -g mosquitto deploy/mosquitto/faxcore.acl "$MQTT_ETC/faxcore.acl"
(umask 027; cat > "$MQTT_ETC/mosquitto.conf" <<EOF
# Written by deploy/setup.sh: faxcore's authenticating broker.
listener $MQTT_PORT 127.0.0.1
allow_anonymous false
password_file $MQTT_ETC/passwd
acl_file $MQTT_ETC/faxcore.acl
persistence true
persistence_location /var/lib/faxcore-mosquitto/
log_dest file /var/lib/faxcore-mosquitto/mosquitto.log
EOF
)
chgrp mosquitto "$MQTT_ETC/mosquitto.conf"
if ! (exec 3<>/dev/tcp/127.0.0.1/"$MQTT_PORT") 2>/dev/null; then
  mosquitto -d -c "$MQTT_ETC/mosquitto.conf"
  for _ in $(seq 20); do (exec 3<>/dev/tcp/127.0.0.1/"$MQTT_PORT") 2>/dev/null && break; sleep 0.5; done
fi
echo "setup: ready"
