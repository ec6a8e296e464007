import sys


def main():
    print("hello from dk-entry-points", " ".join(sys.argv[1:]))
    return 0


def gui():
    print("gui entry point")
    return 0


class Greeter:
    @staticmethod
    def run():
        print("nested attribute entry point")
        return 0
