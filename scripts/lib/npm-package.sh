# Shared by scripts/win-node and scripts/linux-node: fetch an npm package once into a cache folder.
# Callers set $cache and define log(). Usage: fetch_npm_package NAME VERSION DESTDIR
fetch_npm_package() {
  local name=$1 ver=$2 dest=$3 tmp
  [ -d "$dest" ] && return 0
  log "fetching $name@$ver from npm"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  (cd "$tmp" && npm pack --silent "$name@$ver" >/dev/null)
  mkdir -p "$tmp/out"
  tar -xzf "$tmp"/*.tgz -C "$tmp/out"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/out/package" "$dest"
  rm -rf "$tmp"
}
