"""``python -m pb.tally FILE.pb``: the same command as ``pb tally``."""

from .cli import tally_command

if __name__ == "__main__":
    tally_command(prog_name="python -m pb.tally")
