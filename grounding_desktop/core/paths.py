"""Project-relative image paths: the one sort order and the project folder's own name; and where a
source checkout keeps its sample photos."""
from __future__ import annotations

from pathlib import Path

from natsort import natsort_keygen, ns

PROJECT_DIRNAME = ".grounding"  # beside the images: the database, its backups; never scanned
DB_FILENAME = "project.sqlite"

# Natural, case-insensitive path order (img2 before img10): the image list, scans and exports agree.
natural_path_key = natsort_keygen(alg=ns.PATH | ns.IGNORECASE)

# The repository's four sample photos (resources/samples): the doctor's timed image, the photos
# exports of the model are checked on and int8 is calibrated on. Present in a source checkout.
SAMPLE_PHOTOS_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"
