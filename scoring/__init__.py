"""score.py templates shipped as package data (azml2aks._scoring); see README.md."""
