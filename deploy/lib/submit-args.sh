# Shared by the deploy/*/submit.sh scripts (sourced, not run; the caller defines die()).
# Their command lines read: submit.sh [script options] [spark-submit options] -- <perl subcommand> [args]

# usage: prints the calling script's header comment (its lines 2 up to `set -euo`) as its help.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

# split_at_dashes "$@": sets the arrays `passed` (everything before the first --) and `app`
# (everything after it). A leading -h/--help without -- prints the help and exits 0; a command
# line without -- stops the script, since the perl subcommand would otherwise be guessed.
split_at_dashes() {
  passed=()
  app=()
  local seen=false a
  for a in "$@"; do
    if $seen; then app+=("$a"); elif [[ $a == -- ]]; then seen=true; else passed+=("$a"); fi
  done
  if ! $seen && [[ ${passed[0]:-} == -h || ${passed[0]:-} == --help ]]; then
    usage
    exit 0
  fi
  $seen || die "missing '--' between the options and the perl subcommand (see --help)"
}
