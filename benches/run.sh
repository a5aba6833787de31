#!/usr/bin/env bash
# Provider-scale benchmark: times whole `preflight` processes on generated inventories of
# 10k, 100k and 1M VMs against the floor (read + serde_json into owned structs, see
# examples/floor.rs) measured in the same run, and prints a Markdown report on stdout
# (progress goes to stderr). See benches/README.md for what each row means and the goals.
#
# Environment:
#   BENCH_SIZES="10000 100000 1000000"  VM counts (hosts = VMs / 40)
#   BENCH_RUNS=5        timed runs per row below 1M VMs (median reported)
#   BENCH_RUNS_1M=5     timed runs per row at 1M VMs and more
#   BENCH_SEED=1        generator seed
#   BENCH_FACTS=1       native inventories with migration facts (gen_inventory --facts)
#   BENCH_SCVMM_SIZE=100000   size that also gets the SCVMM UTF-16 row ("" to skip)
#   BENCH_RVTOOLS_SIZE=100000 size that also gets the RVTools workbook row ("" to skip)
#   BENCH_DATA=<target>/bench-data   where inventories are kept and reused
#   BENCH_SKIP_BUILD=1  do not run cargo build first
#   BENCH_PREFLIGHT=<target>/release/preflight   the binary under test
set -euo pipefail
export LC_ALL=C # a decimal point, not a comma, in EPOCHREALTIME and awk

cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
SIZES=${BENCH_SIZES:-"10000 100000 1000000"}
RUNS=${BENCH_RUNS:-5}
RUNS_1M=${BENCH_RUNS_1M:-5}
SEED=${BENCH_SEED:-1}
# With BENCH_FACTS set, the native inventories carry migration facts (gen_inventory --facts).
FACTS_ARGS=()
FACTS_NAME=
if [[ -n ${BENCH_FACTS:-} ]]; then
    FACTS_ARGS=(--facts)
    FACTS_NAME=+facts
fi
SCVMM_SIZE=${BENCH_SCVMM_SIZE-100000}
RVTOOLS_SIZE=${BENCH_RVTOOLS_SIZE-100000}
NOW=2026-11-25T17:00:00Z
VMS_PER_HOST=40
CLUSTER_SIZE=64
BIN=${BENCH_PREFLIGHT:-$TARGET/release/preflight}
GEN=$TARGET/release/examples/gen_inventory
FLOOR=$TARGET/release/examples/floor
GEN_RVTOOLS=$TARGET/release/examples/gen_rvtools

log() { printf '%s\n' "$*" >&2; }

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    log "building release binaries and examples ..."
    cargo build --release --examples --bins >&2
fi
for tool in "$GEN" "$FLOOR" ${RVTOOLS_SIZE:+"$GEN_RVTOOLS"}; do
    [[ -x $tool ]] || { log "error: $tool was not built"; exit 2; }
done

# Inventories depend on the generator's source: a changed generator gets a fresh folder
# instead of silently reusing files it would no longer write.
GEN_HASH=$(sha256sum examples/gen_inventory.rs | cut -c1-12)
DATA=${BENCH_DATA:-$TARGET/bench-data}/gen-$GEN_HASH
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DATA"

# Self-check: the same seed gives the same bytes, another seed other bytes, and the floor reads
# the output back with the VM count asked for.
"$GEN" --hosts 50 --vms 1000 --seed 7 ${FACTS_ARGS[@]+"${FACTS_ARGS[@]}"} --out "$WORK/a.json"
"$GEN" --hosts 50 --vms 1000 --seed 7 ${FACTS_ARGS[@]+"${FACTS_ARGS[@]}"} --out "$WORK/b.json"
"$GEN" --hosts 50 --vms 1000 --seed 8 ${FACTS_ARGS[@]+"${FACTS_ARGS[@]}"} --out "$WORK/c.json"
if ! cmp -s "$WORK/a.json" "$WORK/b.json" || cmp -s "$WORK/a.json" "$WORK/c.json" ||
    [[ $("$FLOOR" "$WORK/a.json") != 1000 ]]; then
    log "error: generator self-check failed (not deterministic, or unreadable by the floor)"
    exit 2
fi

HAVE_TIME=
if [[ -x /usr/bin/time ]]; then
    HAVE_TIME=1
else
    log "note: /usr/bin/time not found (Debian package 'time'): peak RSS is reported as '?'"
fi

now() { if [[ -n ${EPOCHREALTIME:-} ]]; then printf '%s' "$EPOCHREALTIME"; else date +%s.%N; fi; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

# run_once CMD...: runs it once with stdout discarded; sets RC, SECS and RSS_KIB ("?" when
# unknown) and leaves its stderr in $WORK/err.
run_once() {
    local t0 t1
    t0=$(now)
    set +e
    if [[ -n $HAVE_TIME ]]; then
        /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err"
    else
        "$@" >/dev/null 2>"$WORK/err"
    fi
    RC=$?
    set -e
    t1=$(now)
    SECS=$(elapsed "$t0" "$t1")
    RSS_KIB='?'
    if [[ -n $HAVE_TIME ]]; then
        # The last line: time writes "Command exited with non-zero status N" before it.
        RSS_KIB=$(tail -n 1 "$WORK/rss")
    fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ROWS=$WORK/rows   # size|label|status|median_s|rss_kib|input_bytes
INPUTS=$WORK/inputs
: >"$ROWS"
: >"$INPUTS"

# The rows of one size are timed in rounds: every row once per round, so that a machine that
# speeds up or slows down during the run (a shared VM does) moves all of them alike, and the
# ratio to the floor stays fair. Each row first gets a warm-up run that decides its status
# (and puts its input in the page cache).
ROW_LABELS=()
ROW_OPTIONAL=()
ROW_BYTES=()
ROW_CMDS=()
ROW_STATUS=()
ROW_PEAK=()

# add_row LABEL MAY_BE_MISSING INPUT CMD...: MAY_BE_MISSING=1 turns a usage error (a flag or
# command the binary does not have yet) into "n/a" instead of FAILED.
add_row() {
    local label=$1 optional=$2 input=$3
    shift 3
    ROW_LABELS+=("$label")
    ROW_OPTIONAL+=("$optional")
    ROW_BYTES+=("$(stat -c %s "$input")")
    ROW_CMDS+=("$(printf '%q ' "$@")")
    ROW_STATUS+=("")
    ROW_PEAK+=(0)
}

# fail_row I WHY: marks row I as failed, showing its stderr.
fail_row() {
    log "    ${ROW_LABELS[$1]}: FAILED $2:"
    head -n 30 "$WORK/err" | sed 's/^/    | /' >&2
    ROW_STATUS[$1]="FAILED ($2)"
}

# warm_up: the warm-up run of every row that has not had one.
warm_up() {
    local i
    for i in "${!ROW_LABELS[@]}"; do
        [[ -n ${ROW_STATUS[$i]} ]] && continue
        log "  ${ROW_LABELS[$i]} ..."
        eval "run_once ${ROW_CMDS[$i]}"
        if [[ $RC -eq 0 || $RC -eq 1 ]]; then
            ROW_STATUS[i]=ok
            : >"$WORK/times-$i"
        elif [[ ${ROW_OPTIONAL[$i]} == 1 && $RC -eq 2 ]] &&
            grep -qiE 'unexpected argument|unrecognized subcommand|unknown (argument|option|subcommand)' "$WORK/err"; then
            log "    not supported by this binary yet: $(head -n 1 "$WORK/err")"
            ROW_STATUS[i]=n/a
        else
            fail_row "$i" "exit $RC"
        fi
    done
}

# timed_rounds SIZE: the timed runs, then one line per row in $ROWS; clears the rows.
timed_rounds() {
    local size=$1 runs=$RUNS round i
    [[ $size -ge 1000000 ]] && runs=$RUNS_1M
    for ((round = 1; round <= runs; round++)); do
        log "  round $round of $runs"
        for i in "${!ROW_LABELS[@]}"; do
            [[ ${ROW_STATUS[$i]} == ok ]] || continue
            eval "run_once ${ROW_CMDS[$i]}"
            if [[ $RC -ne 0 && $RC -ne 1 ]]; then
                fail_row "$i" "exit $RC on a timed run"
                continue
            fi
            echo "$SECS" >>"$WORK/times-$i"
            local peak=${ROW_PEAK[$i]}
            if [[ $RSS_KIB == '?' ]]; then peak='?'; elif [[ $peak != '?' && $RSS_KIB -gt $peak ]]; then peak=$RSS_KIB; fi
            ROW_PEAK[i]=$peak
        done
    done
    for i in "${!ROW_LABELS[@]}"; do
        local label=${ROW_LABELS[$i]} bytes=${ROW_BYTES[$i]}
        if [[ ${ROW_STATUS[$i]} == ok ]]; then
            local med
            med=$(median <"$WORK/times-$i")
            log "    $label: median ${med}s over $runs runs, peak RSS ${ROW_PEAK[$i]} KiB"
            echo "$size|$label|ok|$med|${ROW_PEAK[$i]}|$bytes" >>"$ROWS"
        else
            echo "$size|$label|${ROW_STATUS[$i]}|||$bytes" >>"$ROWS"
        fi
    done
    ROW_LABELS=() ROW_OPTIONAL=() ROW_BYTES=() ROW_CMDS=() ROW_STATUS=() ROW_PEAK=()
}

# inventory SIZE FORMAT: prints the path of the generated inventory, generating it once.
inventory() {
    local size=$1 format=$2 hosts=$(( $1 / VMS_PER_HOST > 0 ? $1 / VMS_PER_HOST : 1 ))
    local ext=json
    local extra=() name=$format
    if [[ $format == native && -n $FACTS_NAME ]]; then
        extra=("${FACTS_ARGS[@]}")
        name=$format$FACTS_NAME
    fi
    local file=$DATA/inv-${size}vms-${hosts}hosts-seed$SEED-$name.$ext
    local note=reused
    if [[ ! -s $file ]]; then
        local t0 t1
        t0=$(now)
        "$GEN" --hosts "$hosts" --vms "$size" --seed "$SEED" --format "$format" \
            ${extra[@]+"${extra[@]}"} --out "$file.tmp" >&2
        t1=$(now)
        mv "$file.tmp" "$file"
        note="generated in $(elapsed "$t0" "$t1") s"
    fi
    echo "$size|$hosts|$name|$(stat -c %s "$file")|$note" >>"$INPUTS"
    printf '%s' "$file"
}

# rvtools_workbook SIZE: prints the path of an RVTools workbook of SIZE VMs (examples/gen_rvtools.rs
# --vms: 40 VMs a host, hosts esx0001 … in clusters of 64), generating it once per generator.
rvtools_workbook() {
    local size=$1 hosts=$(( $1 / VMS_PER_HOST > 0 ? $1 / VMS_PER_HOST : 1 ))
    local file
    file=$DATA/rvtools-$(sha256sum examples/gen_rvtools.rs | cut -c1-12)-${size}vms.xlsx
    local note=reused
    if [[ ! -s $file ]]; then
        local t0 t1
        t0=$(now)
        "$GEN_RVTOOLS" --vms "$size" --out "$file.tmp.xlsx" >&2
        t1=$(now)
        mv "$file.tmp.xlsx" "$file"
        note="generated in $(elapsed "$t0" "$t1") s"
    fi
    echo "$size|$hosts|rvtools-xlsx|$(stat -c %s "$file")|$note" >>"$INPUTS"
    printf '%s' "$file"
}

HAVE_BIN=
if [[ -x $BIN ]]; then HAVE_BIN=1; else log "note: $BIN was not built: its rows are reported as 'no binary'"; fi

# preflight_row LABEL MAY_BE_MISSING INPUT ARGS...: a row for the preflight binary.
preflight_row() {
    if [[ -z $HAVE_BIN ]]; then
        NO_BIN_ROWS+=("$1|$(stat -c %s "$3")")
        return 0
    fi
    local label=$1 optional=$2 input=$3
    shift 3
    add_row "$label" "$optional" "$input" "$BIN" "$@"
}

for size in $SIZES; do
    log "== $size VMs"
    hosts=$(( size / VMS_PER_HOST > 0 ? size / VMS_PER_HOST : 1 ))
    inv=$(inventory "$size" native)
    out=$WORK/out-$size
    mkdir -p "$out"
    # The first cluster is the full 64-node one whenever there are 64 hosts (see the generator).
    one_host=c001-h001
    cluster_args=()
    for ((h = 1; h <= (hosts < CLUSTER_SIZE ? hosts : CLUSTER_SIZE); h++)); do
        cluster_args+=(--host "$(printf 'c001-h%03d' "$h")")
    done

    NO_BIN_ROWS=()
    add_row floor 0 "$inv" "$FLOOR" "$inv"
    preflight_row "audit 1 host" 0 "$inv" audit --inventory "$inv" --host "$one_host" \
        --plan "$out/plan-one.json" --format json --output "$out/report-one.json" --now "$NOW"
    preflight_row "audit --rolling $(( ${#cluster_args[@]} / 2 ))-node cluster" 1 "$inv" audit --inventory "$inv" \
        --rolling "${cluster_args[@]}" --plan "$out/plan-rolling.json" --format json \
        --output "$out/report-rolling.json" --now "$NOW"
    warm_up

    # restore needs a plan: the rolling one if that row ran, else the single-host one. It is
    # copied, so that the rounds' audits rewriting theirs do not change what restore reads.
    plan=
    if [[ -s $out/plan-rolling.json ]]; then plan=$out/plan-rolling.json; elif [[ -s $out/plan-one.json ]]; then plan=$out/plan-one.json; fi
    if [[ -n $plan ]]; then
        cp "$plan" "$out/plan-for-restore.json"
        preflight_row restore 1 "$inv" restore --plan "$out/plan-for-restore.json" --inventory "$inv" \
            --plan-out "$out/plan-back.json" --format json --output "$out/report-restore.json" --now "$NOW"
    else
        [[ -n $HAVE_BIN ]] && log "  restore: no plan was written by the audit rows"
        [[ -n $HAVE_BIN ]] && NO_PLAN=1
    fi

    if [[ $size == "$SCVMM_SIZE" ]]; then
        scv=$(inventory "$size" scvmm-utf16)
        preflight_row "audit 1 host, SCVMM UTF-16" 0 "$scv" audit --inventory "$scv" \
            --inventory-format scvmm --host "$one_host" --plan "$out/plan-scvmm.json" --format json \
            --output "$out/report-scvmm.json" --now "$NOW"
    fi
    if [[ $size == "$RVTOOLS_SIZE" ]]; then
        rvt=$(rvtools_workbook "$size")
        preflight_row "audit 1 host, RVTools xlsx" 0 "$rvt" audit --inventory "$rvt" \
            --host esx0001 --plan "$out/plan-rvtools.json" --format json \
            --output "$out/report-rvtools.json" --now "$NOW"
    fi
    warm_up
    timed_rounds "$size"
    if [[ -n ${NO_PLAN:-} ]]; then
        echo "$size|restore|n/a (no plan)|||$(stat -c %s "$inv")" >>"$ROWS"
        NO_PLAN=
    fi
    for row in "${NO_BIN_ROWS[@]}"; do
        echo "$size|${row%%|*}|no binary|||${row#*|}" >>"$ROWS"
    done
    rm -rf "$out"
done

# ---- report -------------------------------------------------------------------------------
goal_of() {
    case $1 in
        "audit 1 host") echo 0.8 ;;
        "audit --rolling"* | restore) echo 1.2 ;;
        *SCVMM*) echo 1.5 ;;
        *) echo "" ;;
    esac
}

echo "# preflight benchmark"
echo
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, seed $SEED, $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '-dirty'), runs per row: $RUNS ($RUNS_1M at 1M VMs)"
echo
echo "## Inputs"
echo
echo "| VMs | hosts | format | file MiB | |"
echo "|---:|---:|---|---:|---|"
awk -F'|' '{ printf "| %s | %s | %s | %.1f | %s |\n", $1, $2, $3, $4 / 1048576, $5 }' "$INPUTS"
echo
echo "## Results"
echo
echo "Wall time is the median of whole-process runs; × floor is against the floor of the native file"
echo "of the same VMs in this run; RSS ÷ input is peak RSS over the size of the file the command read."
echo
declare -A FLOOR_S=()
while IFS='|' read -r size label status med _; do
    if [[ $label == floor && $status == ok ]]; then FLOOR_S[$size]=$med; fi
done <"$ROWS"
echo "| size | command | median s | × floor | peak RSS MiB | RSS ÷ input size | goal |"
echo "|---:|---|---:|---:|---:|---:|---|"
while IFS='|' read -r size label status med rss bytes; do
    goal=$(goal_of "$label")
    if [[ $status != ok ]]; then
        echo "| $size | $label | $status | – | – | – | ${goal:+≤ ${goal}×} |"
        continue
    fi
    floor=${FLOOR_S[$size]:-}
    awk -v size="$size" -v label="$label" -v med="$med" -v rss="$rss" -v bytes="$bytes" \
        -v floor="$floor" -v goal="$goal" 'BEGIN {
        ratio = (floor > 0) ? sprintf("%.2f", med / floor) : "?"
        rmib = (rss == "?") ? "?" : sprintf("%.1f", rss / 1024)
        rin = (rss == "?") ? "?" : sprintf("%.2f", rss * 1024 / bytes)
        g = ""
        if (goal != "" && ratio != "?") g = sprintf("≤ %s× %s", goal, (ratio + 0 <= goal + 0) ? "met" : "missed")
        if (size >= 1000000 && label != "floor" && rin != "?") g = g sprintf("%sRSS ≤ 2× input %s", (g == "" ? "" : "; "), (rin + 0 <= 2) ? "met" : "missed")
        printf "| %s | %s | %.3f | %s | %s | %s | %s |\n", size, label, med, ratio, rmib, rin, g
    }'
done <"$ROWS"

echo
echo "## Scaling"
echo
echo "Each step multiplies the VMs; linear scaling (the goal: doubling the VMs at most doubles time"
echo "and memory) means time × and RSS × at most the VMs ×."
echo
echo "| command | VMs | VMs × | time × | RSS × |"
echo "|---|---|---:|---:|---:|"
awk -F'|' '$3 == "ok" { key = $2; n[key]++; s[key, n[key]] = $1; t[key, n[key]] = $4; r[key, n[key]] = $5
                        if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
    END {
        for (i = 1; i <= k; i++) {
            key = order[i]
            for (j = 2; j <= n[key]; j++) {
                rx = (r[key, j] == "?" || r[key, j - 1] == "?") ? "?" : sprintf("%.2f", r[key, j] / r[key, j - 1])
                printf "| %s | %s → %s | %.1f | %.2f | %s |\n", key, s[key, j - 1], s[key, j], s[key, j] / s[key, j - 1], t[key, j] / t[key, j - 1], rx
            }
        }
    }' "$ROWS"
