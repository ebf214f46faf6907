# Shared steps of the scripts that run a JVM server from Maven Central jars for the tests
# (scripts/cassandra, scripts/opensearch): source it, set NAME, PORT, HOME_DIR and
# PID_FILE, then call the steps. Each step prints as "<NAME>: …".

# Whether something answers on 127.0.0.1:$PORT.
service_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# Exits the script (0) when the server answers already; otherwise takes the start lock, so
# that of parallel starters (test runs) one starts it and the others find it running.
service_start_once() {
  if service_answers; then
    echo "$NAME: a server already answers on 127.0.0.1:$PORT"
    exit 0
  fi
  mkdir -p "$HOME_DIR"
  exec 9>"$HOME_DIR/start.lock"
  flock 9
  if service_answers; then
    echo "$NAME: a server already answers on 127.0.0.1:$PORT"
    exit 0
  fi
  command -v java >/dev/null || { echo "$NAME: java (17) is needed to run the server" >&2; exit 1; }
}

# Copies the runtime jars of a pom into a folder, once (again when the pom is newer).
service_resolve_jars() {
  local pom="$1" lib="$2"
  if [[ ! -f "$lib/.complete" ]] || [[ "$pom" -nt "$lib/.complete" ]]; then
    command -v mvn >/dev/null || { echo "$NAME: maven is needed to fetch the server jars" >&2; exit 1; }
    echo "$NAME: resolving the server jars into $lib"
    rm -rf "$lib.tmp"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib.tmp"
    rm -rf "$lib"
    mv "$lib.tmp" "$lib"
    touch "$lib/.complete"
  fi
}

# Runs a command in the background, detached (it outlives the script and the test run that
# called it), output appended to a log, and records its pid in $PID_FILE.
service_launch() {
  local log="$1"
  shift
  echo "$NAME: starting the server (log: $log)"
  setsid nohup "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
}

# Waits until the server answers (exit 0), exits (1, with the end of its log) or $1 seconds pass (1).
service_wait() {
  local wait="$1" log="$2" what="$3"
  for ((i = 0; i < wait * 4; i++)); do
    if service_answers; then
      echo "$NAME: $what answers on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"))"
      exit 0
    fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      echo "$NAME: the server exited; the end of its log:" >&2
      tail -30 "$log" >&2 || true
      exit 1
    fi
    sleep 0.25
  done
  echo "$NAME: the server did not answer within ${wait}s; see $log" >&2
  exit 1
}

# Stops the server of $PID_FILE, waiting for it to exit (at most 30 s, then SIGKILL).
# Arguments: the script's own (`--wipe` also deletes the folder given as $1).
service_stop() {
  local data="$1" wipe=0
  shift
  for arg in "$@"; do
    case "$arg" in
      --wipe) wipe=1 ;;
      *) echo "$NAME: unknown option $arg (stop.sh [--wipe])" >&2; exit 1 ;;
    esac
  done
  if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    local pid
    pid="$(cat "$PID_FILE")"
    kill "$pid"
    for ((i = 0; i < 120; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "$NAME: stopped server $pid"
  else
    echo "$NAME: no server of $HOME_DIR is running"
  fi
  rm -f "$PID_FILE"
  if [[ $wipe == 1 ]]; then rm -rf "$data"; echo "$NAME: data wiped"; fi
}
