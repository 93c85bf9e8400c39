#!/bin/sh
# libksafe's ABI as built agrees with what include/ksafe.h declares and lib/ksafe.map exports:
#  - the library exports (nm -D) exactly the symbols of the map, each under its version node,
#    and its SONAME is libksafe.so.SOVERSION;
#  - the map's ksafe_ symbols are exactly the functions that the header declares (read from
#    the preprocessed header: comments and macros do not count), and its one other symbol is
#    librdkafka's plugin entry point conf_init;
#  - every KSAFE_EXPORT declaration of the header has a doc comment right above it.
# Usage: exported_symbols.sh LIBKSAFE.so ksafe.h ksafe.map SOVERSION CC [CPPFLAGS...]
# (prints TAP)
set -u
lib=$1 header=$2 map=$3 soversion=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Symbols that the map may list beside the header's functions. conf_init is librdkafka's
# plugin entry point (plugin.library.paths=libksafe): exported, but no C API, so the header
# documents it without declaring it; until the plugin is built in, it may be missing.
plugin_symbols="conf_init"

# nm -D prints "ADDR TYPE NAME@@VERSION"; the version node itself is an absolute (A) symbol.
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort >"$tmp/exported_versioned"
sed 's/@.*//' "$tmp/exported_versioned" | sort -u >"$tmp/exported"
nm -D --defined-only "$lib" | awk '$2 == "A" { print $3 }' | sort >"$tmp/nodes"
# The names between "global:" and "local:", comments removed.
sed 's|/\*.*\*/||; /\/\*/,/\*\//d' "$map" |
  sed -n '/global:/,/local:/p' | grep -o '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' |
  tr -d ' \t;' | sort >"$tmp/map"
"$@" -E -P -x c "$header" | grep -o '\bksafe_[a-z0-9_]*[[:space:]]*(' | tr -d ' \t(' |
  sort -u >"$tmp/declared"
{ cat "$tmp/declared"; printf '%s\n' $plugin_symbols; } | sort >"$tmp/allowed"

n=0
check() { # check STATUS DESCRIPTION DETAIL-FILE: TAP line, and on failure what differs
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; sed 's/^/# /' "$3"; fi
}

echo "1..8"
[ -s "$tmp/declared" ] && [ -s "$tmp/map" ] && [ -s "$tmp/exported" ]
check $? "the header, the map and the library all list symbols" /dev/null

comm -23 "$tmp/exported" "$tmp/map" >"$tmp/d"
[ ! -s "$tmp/d" ]
check $? "no symbol exported beyond lib/ksafe.map (listed: exported, not in the map)" "$tmp/d"

comm -13 "$tmp/exported" "$tmp/map" | grep -vxF "$(printf '%s\n' $plugin_symbols)" >"$tmp/d" || :
[ ! -s "$tmp/d" ]
check $? "every symbol of the map is exported (listed: in the map, not exported)" "$tmp/d"

comm -3 "$tmp/map" "$tmp/allowed" >"$tmp/d"
[ ! -s "$tmp/d" ]
check $? "the map lists exactly the header's functions and $plugin_symbols (listed: map only, then header only, indented)" "$tmp/d"

# Every exported symbol carries a version node of the map (@@ is its default version).
grep -o '^[A-Za-z_][A-Za-z0-9_.]*[[:space:]]*{' "$map" | tr -d ' \t{' | sort >"$tmp/map_nodes"
awk -F'@@' 'NF != 2 { print $0 ": no default version" }' "$tmp/exported_versioned" >"$tmp/d"
sed -n 's/.*@@//p' "$tmp/exported_versioned" | sort -u | comm -23 - "$tmp/map_nodes" >>"$tmp/d"
[ ! -s "$tmp/d" ] && [ -s "$tmp/map_nodes" ] && cmp -s "$tmp/nodes" "$tmp/map_nodes"
check $? "every exported symbol has a version of the map ($(tr '\n' ' ' <"$tmp/map_nodes"))" "$tmp/d"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
echo "SONAME is '$soname'" >"$tmp/d"
[ "$soname" = "libksafe.so.$soversion" ]
check $? "the SONAME is libksafe.so.$soversion" "$tmp/d"

# A doc comment ("... */") right above every exported declaration.
awk '/^KSAFE_EXPORT / && prev !~ /\*\/[[:space:]]*$/ { print FILENAME ":" FNR ": " $0 }
     NF { prev = $0 }' "$header" >"$tmp/d"
[ ! -s "$tmp/d" ]
check $? "every KSAFE_EXPORT declaration has a doc comment right above it" "$tmp/d"

# Every declaration's doc comment says whether it is thread-safe.
awk '/^\/\*\*/ { comment = "" } { comment = comment $0 }
     /^KSAFE_EXPORT / && comment !~ /[Tt]hread/ { print FILENAME ":" FNR ": " $0 }' \
  "$header" >"$tmp/d"
[ ! -s "$tmp/d" ]
check $? "every exported declaration's doc comment says whether it is thread-safe" "$tmp/d"
