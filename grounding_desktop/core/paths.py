"""Project-relative image paths: the one sort order and the project folder's own name."""
from __future__ import annotations

from natsort import natsort_keygen, ns

PROJECT_DIRNAME = ".grounding"  # beside the images: the database, its backups; never scanned
DB_FILENAME = "project.sqlite"

# Natural, case-insensitive path order (img2 before img10): the image list, scans and exports agree.
natural_path_key = natsort_keygen(alg=ns.PATH | ns.IGNORECASE)
