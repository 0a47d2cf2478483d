"""Splits set E into a tuning part and a held-out quarter (see README.md beside it)."""

import os
import zlib

DATA = "tests/flows/data/"


def main() -> None:
    tune: list[str] = []
    held: list[str] = []
    for name in ("typed_answers_dev_e1.tsv", "typed_answers_dev_e2.tsv"):
        with open(DATA + name, encoding="utf-8") as file:
            for line in file:
                if not line.strip() or line.startswith("#"):
                    continue
                text = line.rstrip("\n").split("\t")[-1]
                part = held if zlib.crc32(("p8:" + text).encode()) % 4 == 0 else tune
                part.append(line)
    os.makedirs("/tmp/p8", exist_ok=True)
    with open("/tmp/p8/e_tune.tsv", "w", encoding="utf-8") as file:
        file.writelines(tune)
    with open("/tmp/p8/e_held.tsv", "w", encoding="utf-8") as file:
        file.writelines(held)
    print(f"tune {len(tune)}, held out {len(held)}")


if __name__ == "__main__":
    main()
