#!/bin/sh
# handle.sh: the exec handler of examples/daemon/actord.yaml. actord runs it
# once per record of the orders topic, with the record value on stdin and
#   ACTORD_TOPIC ACTORD_PARTITION ACTORD_OFFSET ACTORD_KEY
#   ACTORD_ATTEMPT (1 on the first try) ACTORD_HEADERS (a JSON object)
# in the environment. Exit 0: done. Exit 75: retry later (with backoff).
# Any other exit: a failure, retried up to max_retries, then dead-lettered.
# What it prints on stdout goes to actord's stdout; the last stderr line of
# a failure is the error recorded in the dead letter.
set -eu

order=$(cat)

case "$order" in
*'"status":"hold"'*)
	# The warehouse is not ready for this one yet: ask for a retry.
	if [ "$ACTORD_ATTEMPT" -lt 2 ]; then
		echo "order on hold (attempt $ACTORD_ATTEMPT), retry later" >&2
		exit 75
	fi
	;;
esac

echo "fulfilled $ACTORD_TOPIC/$ACTORD_PARTITION@$ACTORD_OFFSET key=$ACTORD_KEY attempt=$ACTORD_ATTEMPT: $order"
