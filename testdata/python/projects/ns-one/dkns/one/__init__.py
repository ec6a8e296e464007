WHO = "one"
