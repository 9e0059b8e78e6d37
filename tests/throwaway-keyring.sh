#!/bin/sh
# A throwaway Secret Service for the tests and the bench: D-Bus service files in $1 (an
# XDG_DATA_HOME the session bus is started with; its service folder comes before the system's)
# that start gnome-keyring-daemon unlocked with password $2, its keyrings under $1/keyrings.
# D-Bus starts it on the first Secret Service call, and again the same way should it die mid-run
# (it crashed once; D-Bus then started the stock daemon, locked, which asked for a password no one
# could type and the run hung).
#   tests/throwaway-keyring.sh XDG_DATA_HOME PASSWORD
set -eu
dir=$1 password=$2
mkdir -p "$dir/dbus-1/services"
cat >"$dir/keyring-daemon" <<SH
#!/bin/sh
printf '%s' '$password' | exec gnome-keyring-daemon --foreground --unlock --components=secrets
SH
chmod +x "$dir/keyring-daemon"
for name in org.freedesktop.secrets org.gnome.keyring; do
  printf '[D-BUS Service]\nName=%s\nExec=%s\n' "$name" "$dir/keyring-daemon" \
    >"$dir/dbus-1/services/$name.service"
done
