# TAP output for the scenario scripts: source it after `set -u`.
#
#   ok STATUS DESCRIPTION [DIAGNOSTIC]   passes when STATUS (an exit code) is 0
#   is GOT WANT DESCRIPTION              passes when the two strings are equal
#   like GOT EXTENDED-REGEX DESCRIPTION  passes when GOT matches
#
# n counts the tests, failed the failures; the caller prints the plan.

n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		if [ -n "${3:-}" ]; then echo "#   $3"; fi
	fi
}

is() {
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		failed=$((failed + 1))
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

like() {
	n=$((n + 1))
	if [[ "$1" =~ $2 ]]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		failed=$((failed + 1))
		printf '#   got:  %s\n#   want: /%s/\n' "$1" "$2"
	fi
}
