class Tool:
    @staticmethod
    def run():
        print("demo.tool ran")
        return 0
