import os
import time

import pytest
from PIL import Image

from support import make_image
from grounding_desktop.io.images import ImageReadError, load_image, read_header
from grounding_desktop.io.scan import iter_image_files, scan_folder
from grounding_desktop.project import open_project, rescan_project


def test_recursive_case_insensitive_natural_order_and_skips(tmp_path):
    for name in ["img10.jpg", "img2.JPG", "img1.PNG", "b/x.tif", "b/y.TIFF", "c.webp", "d.bmp", "e.jpeg"]:
        make_image(tmp_path / name)
    make_image(tmp_path / ".hidden" / "secret.jpg")
    make_image(tmp_path / ".grounding" / "thumb.jpg")
    make_image(tmp_path / ".dotfile.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    paths = [e.path for e in scan_folder(tmp_path)]
    assert paths == ["b/x.tif", "b/y.TIFF", "c.webp", "d.bmp", "e.jpeg", "img1.PNG", "img2.JPG", "img10.jpg"]


def test_symlink_loop_is_not_followed_forever(tmp_path):
    make_image(tmp_path / "a" / "one.jpg")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a", tmp_path / "alias")
    paths = sorted(p for p, _, _ in iter_image_files(tmp_path))
    assert paths.count("a/one.jpg") == 1 and len(paths) == 1


def test_unreadable_truncated_and_empty_files_are_recorded_not_fatal(tmp_path):
    make_image(tmp_path / "good.jpg")
    (tmp_path / "zero.jpg").write_bytes(b"")
    (tmp_path / "garbage.png").write_bytes(b"\x00not an image at all" * 20)
    full = (make_image(tmp_path / "full.jpg", size=(200, 150))).read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(full[: len(full) // 2])
    png = make_image(tmp_path / "p.png", size=(200, 150)).read_bytes()
    (tmp_path / "truncated.png").write_bytes(png[: len(png) - 20])
    entries = {e.path: e for e in scan_folder(tmp_path)}
    assert entries["good.jpg"].error is None and entries["good.jpg"].width == 64
    assert "empty" in entries["zero.jpg"].error
    assert "not a readable image" in entries["garbage.png"].error
    assert "truncated" in entries["truncated.jpg"].error
    assert "truncated" in entries["truncated.png"].error
    with pytest.raises(ImageReadError, match="truncated"):
        load_image(tmp_path / "truncated.jpg")


@pytest.mark.parametrize("orientation,expected", [(1, (60, 40)), (3, (60, 40)), (6, (40, 60)), (8, (40, 60))])
def test_exif_orientation_swaps_width_and_height_as_a_viewer_shows(tmp_path, orientation, expected):
    p = make_image(tmp_path / "r.jpg", size=(60, 40), exif_orientation=orientation)
    assert read_header(p) == expected
    assert load_image(p).size == expected
    assert scan_folder(tmp_path)[0].width == expected[0]


def test_exif_rotation_moves_pixels(tmp_path):
    img = Image.new("RGB", (60, 40), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 10, 10))  # red in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # viewer rotates 90 degrees clockwise: that corner goes to the top right
    img.save(tmp_path / "r.png", exif=exif.tobytes())
    shown = load_image(tmp_path / "r.png")
    assert shown.size == (40, 60)
    assert shown.getpixel((35, 4))[0] > 200 and shown.getpixel((4, 4))[2] > 200


def test_decompression_bomb_is_recorded(tmp_path, monkeypatch):
    make_image(tmp_path / "big.png", size=(300, 300))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)
    (entry,) = scan_folder(tmp_path)
    assert "too large" in entry.error


def test_downscaled_load_for_display(tmp_path):
    p = make_image(tmp_path / "big.jpg", size=(800, 400))
    assert load_image(p, max_side=200).size == (200, 100)


def test_rescan_keeps_labels_and_picks_up_changes(image_folder):
    store, report = open_project(image_folder)
    assert len(report.added) == 4
    img10 = store.images.by_path()["img10.jpg"]
    store.labels.add_expression(img10.id, "a blue thing")
    sub = store.images.by_path()["sub/img3.bmp"]
    store.labels.add_expression(sub.id, "moved later")

    report = rescan_project(store)
    assert report.unchanged == 4 and not report.added and not report.changed

    make_image(image_folder / "img11.jpg")
    (image_folder / "img2.png").unlink()
    os.rename(image_folder / "sub" / "img3.bmp", image_folder / "renamed.bmp")
    time.sleep(0.01)
    make_image(image_folder / "img1.jpg", size=(100, 50))  # changed content
    report = rescan_project(store)
    assert report.added == ["img11.jpg"]
    assert report.removed == ["img2.png"]
    assert report.renamed == [("sub/img3.bmp", "renamed.bmp")]
    assert report.changed == ["img1.jpg"]
    assert store.images.by_path()["img1.jpg"].width == 100
    assert [e.text for e in store.labels.expressions(store.images.by_path()["img10.jpg"].id)] == ["a blue thing"]
    assert [e.text for e in store.labels.expressions(store.images.by_path()["renamed.bmp"].id)] == ["moved later"]
    assert [i.path for i in store.images.all()] == ["img1.jpg", "img10.jpg", "img11.jpg", "renamed.bmp"]
    store.close()


def test_unchanged_files_are_not_opened_on_rescan(image_folder, monkeypatch):
    store, _ = open_project(image_folder)
    import grounding_desktop.io.scan as scan

    def boom(*a, **k):
        raise AssertionError("rescan opened an unchanged file")

    monkeypatch.setattr(scan, "read_header", boom)
    monkeypatch.setattr(scan, "quick_hash", boom)
    assert rescan_project(store).unchanged == 4
    store.close()
