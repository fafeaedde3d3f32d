print("dissect")
