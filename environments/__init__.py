"""Base conda specs shipped as package data (azml2aks._environments); see README.md."""
