"""Make the tiny audio and video files tests/test_media.py reads (tests/fixtures/media).

Each is a fifth of a second of a sine tone (or a red 16x16 picture), tagged the way
phones and recorders tag theirs: artist, date, encoder, a location in ISO 6709 and the
device's make and model. Photos are not here: the tests make them with Pillow.

Needs ffmpeg (Debian: apt-get install ffmpeg). Run from the repository root:
    python scripts/make_media_fixtures.py
The files are committed; run this again only to change them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "media"
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2"]
PICTURE = ["-f", "lavfi", "-i", "color=c=red:s=16x16:d=0.2"]
TAGS = ["-metadata", "artist=Ivan Petrov", "-metadata", "date=2026-04-02"]
WHERE = "+55.7558+037.6173/"
FILES: dict[str, list[str]] = {
    "tagged.mp3": [*TONE, *TAGS, "-c:a", "libmp3lame", "-b:a", "32k"],
    "tagged.m4a": [*TONE, *TAGS, "-metadata", "comment=room 12", "-c:a", "aac", "-b:a", "32k"],
    "tagged.flac": [*TONE, *TAGS, "-metadata", f"location={WHERE}", "-ar", "8000"],
    "tagged.ogg": [*TONE, *TAGS, "-metadata", f"location={WHERE}", "-c:a", "libvorbis"],
    # WAV as a field recorder writes it: RIFF INFO tags and a Broadcast WAV bext chunk.
    "tagged.wav": [
        *TONE,
        *TAGS,
        "-ar",
        "8000",
        "-c:a",
        "pcm_u8",
        "-write_bext",
        "1",
        "-metadata",
        "originator=ZOOM H5 SN77",
        "-metadata",
        "origination_date=2026-04-02",
    ],
    # QuickTime as a phone writes it: location, make and model in moov/udta atoms.
    "phone.mov": [
        *PICTURE,
        "-c:v",
        "mpeg4",
        "-metadata",
        f"location={WHERE}",
        "-metadata",
        "make=Apple",
        "-metadata",
        "model=iPhone 15",
    ],
    # An M4A with tags only in the standard iTunes list (mutagen deletes all of it).
    "plain.m4a": [*TONE, "-metadata", "artist=Ivan Petrov", "-c:a", "aac", "-b:a", "32k"],
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, args in FILES.items():
        cmd = ["ffmpeg", "-loglevel", "error", "-y", *args, "-fflags", "+bitexact"]
        cmd += ["-flags:a", "+bitexact", "-flags:v", "+bitexact", str(OUT / name)]
        subprocess.run(cmd, check=True)  # noqa: S603 - our own fixed ffmpeg command line
        print(name, (OUT / name).stat().st_size)


if __name__ == "__main__":
    main()
