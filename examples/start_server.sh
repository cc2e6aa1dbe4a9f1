#!/bin/sh
# Hot deploy with Server::Starter (Debian: libserver-starter-perl; CPAN: Server::Starter).
# start_server owns the listening socket; `kill -HUP <start_server pid>` starts a new pronghorn
# (which loads the new code), then signals the old one, which finishes its requests and exits.
# No connection is refused meanwhile: the socket never closes.
#
#   ./start_server.sh app.js            # fast restart: old pronghorn gets TERM once the new one runs
#   SLOW=1 ./start_server.sh app.js     # slow restart: old workers retire one per --spawn-interval
#
#   PRONGHORN="bun ./node_modules/pronghorn/dist/cli.js" ./start_server.sh app.ts             # on Bun
#   PRONGHORN="deno run -A ./node_modules/pronghorn/dist/cli.js" ./start_server.sh app.ts     # on Deno
#
# pronghorn listens on every entry of SERVER_STARTER_PORT (--port and --path may be repeated).
# The pid and status files go to the current directory.
set -eu
APP=${1:-app.js}
PORT=${PORT:-127.0.0.1:5000}
WORKERS=${WORKERS:-4}
# How to start pronghorn (split on spaces). Not `npx pronghorn`: npx runs the bin through `sh -c`,
# and start_server's TERM would stop npx but not pronghorn.
PRONGHORN=${PRONGHORN:-./node_modules/.bin/pronghorn}

if [ -n "${SLOW:-}" ]; then
  # USR1 = stop paced by --spawn-interval; the new pronghorn also starts one worker per interval.
  exec start_server --port="$PORT" --pid-file=pronghorn.pid --status-file=pronghorn.status \
    --signal-on-hup=USR1 --signal-on-term=TERM -- \
    $PRONGHORN --workers "$WORKERS" --spawn-interval 1 -E production "$APP"
fi

exec start_server --port="$PORT" --pid-file=pronghorn.pid --status-file=pronghorn.status -- \
  $PRONGHORN --workers "$WORKERS" -E production "$APP"

# Restart (waits until the new generation runs):  start_server --restart --pid-file=pronghorn.pid --status-file=pronghorn.status
# Stop:                                          start_server --stop --pid-file=pronghorn.pid
