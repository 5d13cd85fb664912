#!/usr/bin/env bash
# make release VERSION=x.y.z: cut a release of shipyard.ecs from a checkout.
#   1. galaxy.yml's version (and execution-environment.yml's tarball and image tag) become VERSION;
#   2. antsibull-changelog checks the fragments, then releases them, with a release summary naming
#      the commit, into changelogs/changelog.yaml and CHANGELOG.rst (the fragments are removed:
#      changelogs/config.yaml's keep_fragments is false);
#   3. ansible-galaxy builds build/shipyard-ecs-VERSION.tar.gz (galaxy.yml's build_ignore keeps the
#      checkout's own files out), and the tarball is checked to hold only files git tracks.
# It commits and tags nothing: it prints the commands that do, for a person to run after reading
# the diff.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${VERSION:-${1:-}}"
if ! [[ "$version" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
  echo "VERSION=${version:-<unset>}: give the release's version as x.y.z, e.g. make release VERSION=0.1.0" >&2
  exit 2
fi
current=$(sed -n 's/^version: *//p' galaxy.yml)
if [ "$(printf '%s\n%s\n' "$current" "$version" | sort -V | head -1)" != "$current" ]; then
  echo "VERSION=$version: lower than galaxy.yml's version $current" >&2
  exit 2
fi
if python - "$version" <<'EOF'
import sys, yaml
releases = (yaml.safe_load(open("changelogs/changelog.yaml")) or {}).get("releases") or {}
sys.exit(0 if sys.argv[1] in releases else 1)
EOF
then
  echo "VERSION=$version: already released (changelogs/changelog.yaml)" >&2
  exit 2
fi
# The release is what is committed: a changed tracked file would ship unseen in the tarball.
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "the checkout has uncommitted changes (git status); commit or stash them first" >&2
  exit 2
fi
if ! ls changelogs/fragments/*.y*ml >/dev/null 2>&1; then
  echo "no changelog fragment in changelogs/fragments: nothing to release" >&2
  exit 2
fi

commit=$(git rev-parse --short=12 HEAD)
summary="${RELEASE_SUMMARY:-shipyard.ecs $version, cut from commit $commit.}"
python - "changelogs/fragments/release-$version.yml" "$summary" <<'EOF'
import sys, yaml
with open(sys.argv[1], "w") as handle:
    handle.write("---\n" + yaml.safe_dump({"release_summary": sys.argv[2]}, width=100))
EOF
antsibull-changelog lint
sed -i "s/^version: .*/version: $version/" galaxy.yml
sed -i -E "s/shipyard-ecs-[0-9]+\.[0-9]+\.[0-9]+\.tar\.gz/shipyard-ecs-$version.tar.gz/g; s/shipyard-ecs-ee:[0-9]+\.[0-9]+\.[0-9]+/shipyard-ecs-ee:$version/g" \
  execution-environment.yml
antsibull-changelog release --version "$version"
rm -f changelogs/.plugin-cache.yaml  # antsibull-changelog's cache of the plugins' docs
mkdir -p build
ansible-galaxy collection build --force --output-path build/ .
tarball="build/shipyard-ecs-$version.tar.gz"

# Untracked files (a scratch file, a .venv symlink) are not in git status above: whatever of them
# build_ignore let through is refused here.
stray=$(comm -23 <(tar -tzf "$tarball" | grep -v '/$' | grep -vxE 'MANIFEST.json|FILES.json|CHANGELOG.rst' | sort) \
                 <(git ls-files | sort))
if [ -n "$stray" ]; then
  echo "$tarball holds files git does not track (remove them, or add them to galaxy.yml's build_ignore):" >&2
  echo "$stray" >&2
  exit 1
fi
echo "== $tarball ($(tar -tzf "$tarball" | grep -vc '/$') files)"
sha256sum "$tarball"
cat <<EOF
== next: read the diff (git diff; git status), then
git add -A galaxy.yml execution-environment.yml changelogs/ CHANGELOG.rst && git commit -m "Release $version"
git tag -a v$version -m "shipyard.ecs $version" && git push origin HEAD v$version
and attach $tarball to the release.
EOF
