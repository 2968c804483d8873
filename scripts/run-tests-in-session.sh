#!/usr/bin/env bash
# Run pytest inside a private D-Bus session with an unlocked gnome-keyring Secret Service.
#
# Usage (from the repo root, venv at .venv):
#   dbus-run-session -- bash scripts/run-tests-in-session.sh [pytest args...]
#
# XDG_RUNTIME_DIR and XDG_DATA_HOME point at a fresh 0700 temp dir, so the login keyring is
# throwaway and ~/.local/share/keyrings is never touched. gnome-keyring-daemon runs in the
# foreground of a detached helper: when pytest ends, dbus-run-session closes the bus, the
# daemon exits, and the helper removes the temp dir.
set -euo pipefail

die() {
    echo "run-tests-in-session.sh: $*" >&2
    exit 2
}

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

if [[ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
    die "no D-Bus session bus. Run it as:
  dbus-run-session -- bash scripts/run-tests-in-session.sh [pytest args...]"
fi
command -v dbus-send >/dev/null || die "dbus-send not found: apt-get install dbus"
command -v gnome-keyring-daemon >/dev/null ||
    die "gnome-keyring-daemon not found: apt-get install gnome-keyring libsecret-tools"
[[ -x .venv/bin/python ]] || die "no virtualenv at $repo_root/.venv"

secrets_owned() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q 'boolean true'
}
if secrets_owned; then
    die "a Secret Service already owns this bus (a desktop session?); start a private one with
  dbus-run-session -- bash scripts/run-tests-in-session.sh [pytest args...]"
fi

XDG_RUNTIME_DIR=$(mktemp -d /tmp/mailproof-session.XXXXXX)
chmod 0700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
export XDG_DATA_HOME="$XDG_RUNTIME_DIR/data"
mkdir -m 0700 "$XDG_DATA_HOME"
keyring_log="$XDG_RUNTIME_DIR/gnome-keyring.log"
keyring_password=$(head -c 24 /dev/urandom | base64)

# setsid: Ctrl-C in the terminal must not kill the keyring under a still-running pytest.
# The daemon reads the unlock password from stdin; it exits when the session bus goes away.
setsid bash -c '
    printf "%s" "$1" | gnome-keyring-daemon --foreground --unlock --components=secrets \
        >"$2" 2>&1
    rm -rf -- "$3"
' keyring-helper "$keyring_password" "$keyring_log" "$XDG_RUNTIME_DIR" \
    </dev/null >/dev/null 2>&1 &
unset keyring_password

for _ in $(seq 200); do
    secrets_owned && break
    sleep 0.05
done
if ! secrets_owned; then
    cat "$keyring_log" >&2 2>/dev/null || true
    die "gnome-keyring-daemon did not register org.freedesktop.secrets within 10 s"
fi

GNOME_KEYRING_CONTROL=$(sed -n 's/^GNOME_KEYRING_CONTROL=//p' "$keyring_log" | tail -n 1)
export GNOME_KEYRING_CONTROL="${GNOME_KEYRING_CONTROL:-$XDG_RUNTIME_DIR/keyring}"
export PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring

exec .venv/bin/python -m pytest "$@"
