"""Facts about Azure that the components, the cost estimate and the policy pack all use, written once.

Plain data and pure functions only (no Pulumi resources), so the policy pack can import it without the components.
"""
