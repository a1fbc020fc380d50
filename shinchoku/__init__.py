"""shinchoku (進捗): track a prefecture's DX programme against its KPIs."""

__version__ = "0.1.0"
