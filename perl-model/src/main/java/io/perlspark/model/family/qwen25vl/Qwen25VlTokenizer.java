package io.perlspark.model.family.qwen25vl;

import io.perlspark.model.tokenizer.TextTokenizer;
import io.perlspark.model.tokenizer.TokenizerSource;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The policy tokenizer of a Qwen2.5-VL model: the checkpoint's {@code tokenizer.json}, as the jobs
 * need it. It owns the family's {@link Qwen25VlProcessor} (one native tokenizer per model, closed
 * with this tokenizer), which {@link Qwen25VlPromptProcessor} shares.
 *
 * <p>Differences from a plain {@link io.perlspark.model.tokenizer.HfTokenizer}, both because the
 * jobs parse decoded responses (rewards look for {@code \boxed{}}):
 *
 * <ul>
 *   <li>{@link #decode} leaves out every special token ({@code <|im_end|>}, {@code <|endoftext|>},
 *       vision markers), as Hugging Face's {@code decode(ids, skip_special_tokens=True)}; ids the
 *       tokenizer does not know (the model's vocabulary is padded past the tokenizer's) are
 *       dropped.
 *   <li>{@link #vocabSize} is the model's vocabulary (151936 for the published checkpoints), so
 *       every id the model can generate is in range.
 * </ul>
 *
 * <p>{@link #eosId} is {@code <|im_end|>}, the end of an assistant turn: SFT targets end with it.
 */
public final class Qwen25VlTokenizer implements TextTokenizer {
  private final Qwen25VlProcessor processor;
  private final int vocabSize;

  /**
   * @param processor the processor whose tokenizer this is; closed by {@link #close()}
   * @param modelVocabSize the model's vocabulary size (config.json's {@code vocab_size})
   */
  public Qwen25VlTokenizer(Qwen25VlProcessor processor, int modelVocabSize) {
    this.processor = Objects.requireNonNull(processor, "processor");
    this.vocabSize = Math.max(modelVocabSize, processor.tokenizer().vocabSize());
  }

  /** The processor (chat template, image processing) sharing this tokenizer. */
  public Qwen25VlProcessor processor() {
    return processor;
  }

  @Override
  public int[] encode(String text) {
    return processor.tokenizer().encode(text);
  }

  /** The text of generated ids without special tokens (see the class comment). */
  @Override
  public String decode(int[] ids) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new IllegalArgumentException(
            "token id " + ids[i] + " at index " + i + " is out of range [0, " + vocabSize + ")");
      }
    }
    return processor.decode(ids);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int padId() {
    return processor.specialIds().pad();
  }

  @Override
  public int bosId() {
    return processor.specialIds().imStart();
  }

  @Override
  public int eosId() {
    return processor.specialIds().imEnd();
  }

  @Override
  public int imageId() {
    return processor.specialIds().imagePad();
  }

  @Override
  public OptionalInt id(String token) {
    return processor.tokenizer().id(token);
  }

  /** The tokenizer.json content (opening it gives a plain HfTokenizer, which keeps specials). */
  @Override
  public TokenizerSource source() {
    return processor.tokenizer().source();
  }

  @Override
  public void close() {
    processor.close();
  }

  @Override
  public String toString() {
    return "Qwen25VlTokenizer(" + processor.tokenizer() + ")";
  }
}
