# The rows of bench/run's table: bench/run and bench/compare.sh add them to
# $BENCH_ROWS as "figure<TAB>value<TAB>unit<TAB>target<TAB>verdict", and
# bench/run prints the table and writes its JSON at the end.

# add_row FIGURE VALUE UNIT TARGET_TEXT LIMIT: the verdict is "pass" when
# VALUE <= LIMIT, "miss" otherwise, and "info" when LIMIT is "-".
add_row()
{
	local figure=$1 value=$2 unit=$3 target=$4 limit=$5 verdict=info

	if [ "$limit" != - ]; then
		verdict=$(awk -v v="$value" -v l="$limit" 'BEGIN { print (v <= l) ? "pass" : "miss" }')
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$figure" "$value" "$unit" "$target" "$verdict" >>"$BENCH_ROWS"
}

describe_machine()
{
	jq -n \
		--arg cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)" \
		--arg cores "$(nproc)" \
		--arg memory "$(free -m | awk '/^Mem:/ { print $2 " MiB" }')" \
		--arg kernel "$(uname -r)" \
		--arg disk "$(df -T /tmp | awk 'NR == 2 { print $2 " on " $1 }')" \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		'{cpu: $cpu, cores: ($cores | tonumber), memory: $memory,
		  kernel: $kernel, store_file_system: $disk, date: $date}'
}

print_results()
{
	local machine

	machine=$(describe_machine) || return 1
	echo "machine: $(jq -r '"\(.cpu), \(.cores) cores, \(.memory), kernel \(.kernel), store on \(.store_file_system)"' <<<"$machine")"
	echo
	awk -F '\t' 'BEGIN { printf "| %-72s | %13s | %-12s | %-7s |\n", "figure", "value", "target", "verdict";
			     printf "|%s|%s|%s|%s|\n", "--------------------------------------------------------------------------", "---------------", "--------------", "---------" }
		     { printf "| %-72s | %9s %-3s | %-12s | %-7s |\n", $1, $2, ($3 == "grants/s" ? "/s" : $3), $4, $5 }' "$BENCH_ROWS"

	jq -Rn --argjson machine "$machine" \
		--arg large "$([ "$BENCH_QUICK" = 1 ] && echo 100,000 || echo 1,000,000) grants" '
		{machine: $machine, large_store: $large, quick: (env.BENCH_QUICK == "1"),
		 rows: [inputs | split("\t") | {figure: .[0], value: (.[1] | tonumber),
		        unit: .[2], target: .[3], verdict: .[4]}]}' <"$BENCH_ROWS" >"$BENCH_JSON" || {
		echo "bench: writing $BENCH_JSON failed" >&2
		return 1
	}
	echo
	echo "JSON: $BENCH_JSON"
}
