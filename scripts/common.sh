# Sourced first by the experiment scripts whose settings are environment
# variables (scripts/reproduce_synthetic.sh, scripts/few_shot.sh): refuses
# arguments but -h/--help (the script's header comment), and goes to the
# repository root, ROOT. `die MESSAGE`: one `error:` line, exit 2;
# `duration SECONDS`: 0h00m00s.
SCRIPT=${BASH_SOURCE[1]}
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$SCRIPT"; }
die() { echo "error: $*" >&2; exit 2; }
duration() { printf '%dh%02dm%02ds' $(( $1 / 3600 )) $(( $1 % 3600 / 60 )) $(( $1 % 60 )); }

case "${1:-}" in
  "") ;;
  -h|--help) usage; exit 0 ;;
  *) die "no arguments expected, the settings are environment variables (see --help): $*" ;;
esac

ROOT=$(cd "$(dirname "$SCRIPT")/.." && pwd)
cd "$ROOT"
