package io.perlspark.common.data;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One prompt of a multi-image dataset in the canonical form.
 *
 * @param id unique id of the sample within its dataset
 * @param images the images, in the order their {@code <image>} placeholders appear in the prompt
 * @param prompt text with one {@code <image>} placeholder per image
 * @param answer ground truth, in the form of its {@link AnswerKind}
 * @param answerKind how the answer is compared and remapped
 * @param orderSensitive whether reordering the images changes the correct answer (the paper's
 *     semantic-variation label)
 * @param optionImageSlots for option-letter answers bound to images: option {@code 'A'+i} names
 *     image slot {@code optionImageSlots.get(i)} (0-based). Empty when the options are not images.
 * @param family task family, for per-family metrics (e.g. {@code which_image}, {@code count})
 * @param dataSource where the sample came from (dataset name)
 * @param stageTags free tags a training stage can select on (e.g. {@code multi}, {@code single})
 */
public record Sample(
    String id,
    List<ImageRef> images,
    String prompt,
    String answer,
    AnswerKind answerKind,
    boolean orderSensitive,
    List<Integer> optionImageSlots,
    String family,
    String dataSource,
    List<String> stageTags)
    implements Serializable {

  public static final String IMAGE_PLACEHOLDER = "<image>";
  private static final Pattern PLACEHOLDER = Pattern.compile(Pattern.quote(IMAGE_PLACEHOLDER));

  public Sample {
    Objects.requireNonNull(id, "id");
    images = List.copyOf(Objects.requireNonNull(images, "images"));
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(answer, "answer");
    Objects.requireNonNull(answerKind, "answerKind");
    optionImageSlots = optionImageSlots == null ? List.of() : List.copyOf(optionImageSlots);
    family = family == null ? "" : family;
    dataSource = dataSource == null ? "" : dataSource;
    stageTags = stageTags == null ? List.of() : List.copyOf(stageTags);
  }

  /** Number of {@code <image>} placeholders in a text. */
  public static int countPlaceholders(String text) {
    Matcher m = PLACEHOLDER.matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  public int imageCount() {
    return images.size();
  }

  /** A copy with other images and answer (used by permutation; the text is never rewritten). */
  public Sample withImagesAndAnswer(List<ImageRef> newImages, String newAnswer) {
    return new Sample(id, newImages, prompt, newAnswer, answerKind, orderSensitive, optionImageSlots,
        family, dataSource, stageTags);
  }

  public Sample withId(String newId) {
    return new Sample(newId, images, prompt, answer, answerKind, orderSensitive, optionImageSlots,
        family, dataSource, stageTags);
  }

  public Sample withAnswer(String newAnswer) {
    return new Sample(id, images, prompt, newAnswer, answerKind, orderSensitive, optionImageSlots,
        family, dataSource, stageTags);
  }
}
