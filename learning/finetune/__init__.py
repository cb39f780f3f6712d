"""Whisper LoRA fine-tuning: an offline trainable base, training, merging, CTranslate2 export."""
