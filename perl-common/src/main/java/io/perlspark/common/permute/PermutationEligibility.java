package io.perlspark.common.permute;

import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.Sample;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether a sample may be permuted. The text is never rewritten, so a permutation is only
 * sound when the prompt does not name images by position and the answer either does not depend on
 * the order or can be remapped to the new order.
 */
public final class PermutationEligibility {
  private PermutationEligibility() {}

  /** The outcome of {@link #check}; only {@link #PERMUTABLE} allows permuted copies. */
  public enum Verdict {
    PERMUTABLE,
    /** Fewer than 2 movable image slots: no non-identity permutation exists. */
    TOO_FEW_IMAGES,
    /** The prompt names images by position ("image 2", "the first picture"); it would lie after a permutation. */
    POSITION_REFERRING_TEXT,
    /** Order-sensitive, but the answer kind cannot follow the images (number, yes/no, text, unbound option). */
    NOT_REMAPPABLE;

    public boolean isPermutable() {
      return this == PERMUTABLE;
    }
  }

  private static final String NOUN = "(?:images?|imgs?|pictures?|pics?|photos?|photographs?|figures?|figs?\\.?)";
  private static final String NUMBER_WORD = "(?:one|two|three|four|five|six|seven|eight|nine|ten)";
  private static final String ORDINAL = "(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
      + "|1st|2nd|3rd|[4-9]th|10th|last|final|penultimate|middle|former|latter|leftmost|rightmost)";

  /**
   * Position references. {@code \b} before the noun keeps {@code <image>} from matching (it is
   * followed by {@code >}, never by a number), and a bare plural ("how many images") has no
   * number or ordinal attached.
   */
  private static final Pattern POSITION_REFERENCE = Pattern.compile(String.join("|",
      // image 2, Image-3, img1, image #2, picture no. 3, images 1 and 2, image two
      "\\b" + NOUN + "\\s*(?:#|no\\.?|number)?\\s*[-_]?\\s*(?:\\d+|" + NUMBER_WORD + ")\\b",
      // the first image, second picture, last image, the first two images, 3rd photo
      "\\b" + ORDINAL + "(?:\\s+(?:" + NUMBER_WORD + "|\\d+))?\\s+" + NOUN + "(?![\\w>])",
      // the next / previous image (singular only: "the following images" introduces all of them)
      "\\b(?:next|previous|preceding|following)\\s+(?:image|img|picture|pic|photo|figure)\\b(?!s)",
      // the image on the left, picture to the right
      "\\b" + NOUN + "\\s+(?:on|to)\\s+the\\s+(?:left|right)\\b",
      // in position 2
      "\\b(?:in|at)\\s+position\\s+\\d+\\b"), Pattern.CASE_INSENSITIVE);

  /**
   * A slot label right before its placeholder ("Image 2: <image>", "[Image 2] <image>"). Such a
   * label stays with its slot when the images move, so it is not a reference to an image's content.
   */
  private static final Pattern SLOT_LABEL = Pattern.compile(
      "[\\[(]?\\s*\\b(?:image|img|picture|pic|photo|figure)\\s*[-_#]?\\s*(\\d+|" + NUMBER_WORD + ")\\s*[\\])]?"
          + "\\s*[:.\\-]?\\s*" + Pattern.quote(Sample.IMAGE_PLACEHOLDER),
      Pattern.CASE_INSENSITIVE);

  private static final Map<String, Integer> NUMBER_WORDS = Map.of("one", 1, "two", 2, "three", 3, "four", 4,
      "five", 5, "six", 6, "seven", 7, "eight", 8, "nine", 9, "ten", 10);

  /** The verdict for one sample under a slot selection. Checks run in the order of {@link Verdict}. */
  public static Verdict check(Sample s, SlotSelection selection) {
    int[] movable = selection.slotsFor(s.imageCount());
    if (movable.length < 2) {
      return Verdict.TOO_FEW_IMAGES;
    }
    if (refersToImagePosition(s.prompt())) {
      return Verdict.POSITION_REFERRING_TEXT;
    }
    if (s.orderSensitive() && !remappable(s, movable)) {
      return Verdict.NOT_REMAPPABLE;
    }
    return Verdict.PERMUTABLE;
  }

  /**
   * Whether the text names images by position. Slot labels directly before their own placeholder
   * ("Image 1: &lt;image&gt; Image 2: &lt;image&gt;") do not count when the label's number is the
   * slot's 1-based position: they move with the slot, and a remapped answer still agrees with them.
   */
  public static boolean refersToImagePosition(String text) {
    return POSITION_REFERENCE.matcher(withoutSlotLabels(text)).find();
  }

  private static String withoutSlotLabels(String text) {
    Matcher m = SLOT_LABEL.matcher(text);
    StringBuilder out = new StringBuilder();
    int placeholdersBefore = 0;
    int last = 0;
    while (m.find()) {
      placeholdersBefore += Sample.countPlaceholders(text.substring(last, m.start()));
      int slot1Based = placeholdersBefore + 1; // the placeholder this label ends with
      String num = m.group(1).toLowerCase(Locale.ROOT);
      int label = NUMBER_WORDS.containsKey(num) ? NUMBER_WORDS.get(num) : parseOrMinusOne(num);
      out.append(text, last, m.start());
      out.append(label == slot1Based ? Sample.IMAGE_PLACEHOLDER : m.group());
      placeholdersBefore++;
      last = m.end();
    }
    out.append(text.substring(last));
    return out.toString();
  }

  private static int parseOrMinusOne(String digits) {
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Order-sensitive answers that can follow the images: an image index, an ordering, or an option
   * letter bound to image slots such that the correct image always stays an option (no option
   * slot moves, or every movable slot is an option slot).
   */
  private static boolean remappable(Sample s, int[] movable) {
    AnswerKind kind = s.answerKind();
    if (kind == AnswerKind.IMAGE_INDEX || kind == AnswerKind.ORDERING) {
      return true;
    }
    if (kind != AnswerKind.OPTION_LETTER || s.optionImageSlots().isEmpty()) {
      return false;
    }
    Set<Integer> optionSlots = new HashSet<>(s.optionImageSlots());
    boolean anyOptionMoves = false;
    boolean allMovableAreOptions = true;
    for (int slot : movable) {
      boolean isOption = optionSlots.contains(slot);
      anyOptionMoves |= isOption;
      allMovableAreOptions &= isOption;
    }
    return !anyOptionMoves || allMovableAreOptions;
  }
}
