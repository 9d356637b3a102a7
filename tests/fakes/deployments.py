class Deployments:
    def __init__(self, fake):
        self.fake = fake

    def settle(self):
        pass
