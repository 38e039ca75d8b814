#!/usr/bin/env bash
# The Apache Kafka broker of the integration tests needs Java 17+ and Maven; install them if missing.
set -euo pipefail
if command -v java >/dev/null && command -v mvn >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Java 17 and Maven with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
else
  echo "Java 17+ and Maven are needed for the Apache Kafka tests: install them (e.g. apt-get install openjdk-17-jre-headless maven)" >&2
  exit 1
fi
