"""Write ``ciiguard/catalogue/data/<cloud>-types.json``: every resource type a provider documents,
with ciiguard's decision for it (holds data, names a destination, or neither).

The type names come from the provider's own repository, one documentation page per resource
(``website/docs/r/*.html.markdown`` for alicloud and tencentcloud, ``docs/resources/*.md`` for
huaweicloud), read from a bare clone (``git --git-dir``). The decisions "holds data" and "flow"
are the catalogue's own (``<cloud>.json``: ``data_bearing`` and ``replication``); every other type
is "neither" with the page's subcategory, so a reviewer sees what was judged. Types the catalogue
names that the pages no longer document (renamed or removed resources still in use) are kept.

    python scripts/derive_provider_types.py alicloud /path/to/terraform-provider-alicloud.git
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "ciiguard" / "catalogue" / "data"
LAYOUT = {
    "alicloud": ("aliyun/terraform-provider-alicloud", "website/docs/r/", ".html.markdown"),
    "tencentcloud": (
        "tencentcloudstack/terraform-provider-tencentcloud",
        "website/docs/r/",
        ".html.markdown",
    ),
    "huaweicloud": ("huaweicloud/terraform-provider-huaweicloud", "docs/resources/", ".md"),
}


def _git(git_dir: str, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], input=stdin, capture_output=True, check=True
    ).stdout


def pages(cloud: str, git_dir: str) -> dict[str, tuple[str, str]]:
    """type -> (doc page, subcategory), the type named by the page's title or first heading."""
    _, folder, ext = LAYOUT[cloud]
    names = _git(git_dir, "ls-tree", "--name-only", "HEAD", folder).decode().split()
    names = [n for n in names if n.endswith(ext)]
    blob = _git(
        git_dir, "cat-file", "--batch", stdin="".join(f"HEAD:{n}\n" for n in names).encode()
    )
    out: dict[str, tuple[str, str]] = {}
    pos = 0
    for name in names:
        end = blob.index(b"\n", pos)
        size = int(blob[pos:end].split()[2])
        body = blob[end + 1 : end + 1 + size].decode("utf-8", "replace")
        pos = end + 1 + size + 1
        sub = re.search(r'^subcategory:\s*"?([^"\n]*)"?', body, re.M)
        title = re.search(r"^(?:page_title:|#)[^\n]*?\b(" + cloud + r"_\w+)", body, re.M)
        typ = title.group(1) if title else cloud + "_" + name[len(folder) : -len(ext)]
        out.setdefault(typ, (name, sub.group(1).strip() if sub else ""))
    return out


def main(cloud: str, git_dir: str) -> None:
    repo = LAYOUT[cloud][0]
    catalogue = json.loads((DATA / f"{cloud}.json").read_text(encoding="utf-8"))
    data = {e["type"] for e in catalogue.get("data_bearing", [])}
    flows = {e["type"] for e in catalogue.get("replication", [])}
    found = pages(cloud, git_dir)
    commit = _git(git_dir, "rev-parse", "HEAD").decode().strip()
    version = _git(git_dir, "describe", "--tags", "HEAD").decode().strip()
    types = []
    for typ in sorted(set(found) | data | flows):
        page, sub = found.get(typ, ("", ""))
        decision = [d for d, group in (("data", data), ("flow", flows)) if typ in group]
        entry: dict[str, object] = {"type": typ, "decision": decision or ["neither"]}
        entry["page"] = page or "not documented at this commit (older provider versions)"
        if not decision:
            entry["why"] = f"{sub or 'provider'} configuration: holds no data, names no destination"
        types.append(entry)
    out = {
        "provider": cloud,
        "derived_from": {
            "repository": repo,
            "commit": commit,
            "version": version,
            "pages": LAYOUT[cloud][1] + "*" + LAYOUT[cloud][2],
            "how": "scripts/derive_provider_types.py",
        },
        "types": types,
    }
    path = DATA / f"{cloud}-types.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: {len(types)} types, {len(data)} hold data, {len(flows)} flows")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
