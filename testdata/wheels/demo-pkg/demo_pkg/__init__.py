def main():
    print("demo-cli ran")
    return 0


def gui():
    return 0
