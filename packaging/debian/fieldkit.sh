#!/bin/sh
# fieldkit's command (/usr/bin/fieldkit points here): its own Python environment under
# /opt/fieldkit, run isolated (-I: no PYTHON* variables, no user site-packages, and not
# the current folder on sys.path, so a file on a stick cannot stand in for part of it).
set -e
# On Tails only the Persistent Storage outlives a shutdown, so the vault goes there
# unless FIELDKIT_VAULT or --vault says otherwise (docs/install.md).
if [ -z "${FIELDKIT_VAULT:-}" ] && [ -e /etc/amnesia/version ]; then
    if [ -d "$HOME/Persistent" ]; then
        FIELDKIT_VAULT="$HOME/Persistent/vault"
        export FIELDKIT_VAULT
    else
        echo "fieldkit: warning: Tails without Persistent Storage: a vault made now is lost at shutdown" >&2
    fi
fi
here=$(dirname "$(readlink -f "$0")")
exec "$here/python3" -I -m fieldkit "$@"
