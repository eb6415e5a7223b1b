"""Chroot cache naming and mirror discovery (no debootstrap run)."""

from __future__ import annotations

from pathlib import Path

from faxcore.config import load_config
from faxcore.lab.chroot import DEFAULT_MIRROR, PACKAGES, LabChroot, cache_key, find_mirror


def test_cache_key_depends_on_package_set_not_order() -> None:
    assert cache_key(PACKAGES) == cache_key(tuple(reversed(PACKAGES)))
    assert cache_key(PACKAGES) != cache_key((*PACKAGES, "sox"))


def test_mirror_from_deb822_sources_skips_security(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    assert find_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources_and_default(tmp_path: Path) -> None:
    assert find_mirror(tmp_path) == DEFAULT_MIRROR
    (tmp_path / "sources.list").write_text("deb http://ftp.fr.debian.org/debian bookworm main\n")
    assert find_mirror(tmp_path) == "http://ftp.fr.debian.org/debian"


def test_configured_mirror_and_cache_dir_win(tmp_path: Path) -> None:
    config = load_config(environ={"FAXCORE_LAB_MIRROR": "http://m.example/debian",
                                  "FAXCORE_LAB_CACHE_DIR": str(tmp_path)})
    chroot = LabChroot(config)
    assert chroot.mirror == "http://m.example/debian"
    assert chroot.path == tmp_path / f"rootfs-{cache_key()}"
    assert not chroot.built
