#!/usr/bin/env bash
# Nextflow from the jars `make nextflow` resolved from Maven Central into lib/ beside this script.
# The official launcher (https://get.nextflow.io) does the same after downloading its runtime;
# this one downloads nothing. JAVA_CMD, NXF_OPTS and NXF_HOME work as they do there.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
lib=$here/lib
# classes/ first: the lint fix there replaces a class of the same name in nf-lang (see lint-fix/)
classpath="$here/classes:$lib/*${NXF_CLASSPATH:+:$NXF_CLASSPATH}"
if ! compgen -G "$lib/nextflow-*.jar" >/dev/null; then
    echo "nextflow: no Nextflow jars in $lib; run 'make nextflow' first" >&2
    exit 1
fi
java=${JAVA_CMD:-${JAVA_HOME:+$JAVA_HOME/bin/}java}

# Nextflow reflects into these JDK packages (its launcher opens the same set on Java 9+)
opens=(java.lang java.io java.nio java.net java.util java.util.concurrent.locks
       java.util.concurrent.atomic java.nio.file.spi java.util.regex sun.nio.ch sun.nio.fs
       sun.net.www.protocol.http sun.net.www.protocol.https sun.net.www.protocol.ftp
       sun.net.www.protocol.file jdk.internal.misc jdk.internal.vm)
jvm=(-Dfile.encoding=UTF-8 -Djava.awt.headless=true)
for package in "${opens[@]}"; do jvm+=("--add-opens=java.base/$package=ALL-UNNAMED"); done
# a short-lived command (lint, config, -version) starts faster without the optimising compiler
case "${1:-}" in
    run|node) ;;
    *) jvm+=(-XX:+TieredCompilation -XX:TieredStopAtLevel=1) ;;
esac
# shellcheck disable=SC2206  # NXF_OPTS is a space-separated list of JVM options, as upstream
[[ -n "${NXF_OPTS:-}" ]] && jvm+=($NXF_OPTS)
[[ -n "${NXF_TEMP:-}" ]] && jvm+=("-Djava.io.tmpdir=$NXF_TEMP")

exec "$java" "${jvm[@]}" -cp "$classpath" nextflow.cli.Launcher "$@"
