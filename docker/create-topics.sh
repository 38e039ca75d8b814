#!/bin/sh
# Create newswire's topics with their partition counts; safe to run again (--if-not-exists).
# Reads the worker's NEWSWIRE_* variables, so both agree; $KAFKA_TOPICS is kafka-topics.sh.
set -eu

bootstrap=${NEWSWIRE_BROKER:-kafka://kafka:9092}
bootstrap=${bootstrap#kafka://}
bootstrap=${bootstrap%%[,;]*}
topics_cli=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}
partitions=${NEWSWIRE_PARTITIONS:-4}
replicas=${NEWSWIRE_REPLICATION_FACTOR:-1}
# Inputs too large for the body limit still travel, to reach the dead letter intact.
large="max.message.bytes=${NEWSWIRE_MAX_MESSAGE_BYTES:-33554432}"

create() {  # name partitions [config]
  if [ $# -ge 3 ]; then
    set -- "$1" "$2" --config "$3"
  fi
  name=$1
  count=$2
  shift 2
  "$topics_cli" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$name" --partitions "$count" --replication-factor "$replicas" "$@"
}

create "${NEWSWIRE_INPUT_TOPIC:-wire.articles}" "$partitions" "$large"
# One partition: the dedup stage sees every story in order.
create "${NEWSWIRE_STORIES_TOPIC:-wire.stories}" 1
create "${NEWSWIRE_OUTPUT_TOPIC:-wire.enriched}" "$partitions"
create "${NEWSWIRE_DEADLETTER_TOPIC:-wire.deadletter}" 1 "$large"
# The dedup table's changelog: compacted, one partition like its source.
create "${NEWSWIRE_APP_ID:-newswire}-story-index-changelog" 1 cleanup.policy=compact

"$topics_cli" --bootstrap-server "$bootstrap" --describe \
  --topic "${NEWSWIRE_INPUT_TOPIC:-wire.articles}"
echo "newswire topics ready on $bootstrap"
