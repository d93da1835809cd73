package io.perlspark.common.synth;

import io.perlspark.common.Seeds;
import io.perlspark.common.data.AnswerKind;
import io.perlspark.common.data.ImageRef;
import io.perlspark.common.data.Sample;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The seeded synthetic multi-image benchmark: coloured shapes, questions whose answers depend on
 * where the images sit, and reference responses for the warm start.
 *
 * <p><b>Random access.</b> {@link #generate(Split, long)} depends only on (seed, split, index) — no
 * shared stream, no state — so a Spark job can generate any index range in any partitioning, in
 * any order, on any executor, and get identical items. All randomness comes from
 * {@link Seeds#derive(long, long...)} of (seed, split, index).
 *
 * <p><b>Train and SFT splits.</b> The family is drawn by {@link SynthOptions#familyWeights()}; the
 * image count uniformly in the family's range. For which_image and which_option the answer image sits in
 * slot 1 with probability {@link SynthOptions#trainPositionBias()}, otherwise uniformly in one of
 * the other slots. Every other random choice is uniform. SFT is drawn exactly like train from its
 * own stream: a warm start on it inherits the positional bias, as in the calibration.
 *
 * <p><b>Eval split (balanced).</b> Families are laid out deterministically, not drawn: the weights
 * are turned into integer counts over a short period (the smallest period ≤ 1000 that represents
 * them exactly, else 1000 with largest-remainder rounding and at least one slot for every family
 * with weight > 0), interleaved by smooth weighted round-robin. Eval index i falls in period slot
 * {@code i mod period}, which gives its family f and its family-local index j (how many earlier
 * eval indices have family f). Item j of family f takes cell {@code j mod |cells(f)|} of that
 * family's cell list, in this order:
 * <ul>
 *   <li>which_image, which_option: (image count n, answer slot p) for every n in range and p in 1..n;
 *   <li>attribute_at: (n, asked-about slot p), likewise;
 *   <li>order: (n, slot of the smallest shape p), n capped by the radius range;
 *   <li>count: (n, the true count c) for c in 0..n;
 *   <li>single: (question, answer): what shape ×3, what colour ×4, is the shape &lt;colour&gt; ×{yes, no},
 *       is this a &lt;shape&gt; ×{yes, no}.
 * </ul>
 * So every run of {@link #evalBalancedSize()} consecutive eval indices (starting at a multiple of
 * it) holds each family's cells exactly equally often, and the families in their per-period
 * counts. With only which_image and 2–4 images that run is 9 items (900 items = 100 per
 * (image count, answer position) cell, as in the calibration). The remaining choices (colours, shapes,
 * radii, distractors, noise) are random from the item's seed.
 *
 * <p><b>Text.</b> Prompts are lower case with single spaces, one {@code <image>} placeholder per
 * image. Responses look like {@code <think> img1 red circle img2 blue square </think> \boxed{2}}:
 * each image's colour and shape, then the answer; for which_image and which_option each image's
 * description is followed by a verdict ({@code img1 red circle no img2 blue square yes}). Every
 * token is in {@link #vocabulary()} under {@link #TOKEN_PATTERN}.
 */
public final class SyntheticBenchmark implements Serializable {
  private static final long serialVersionUID = 1L;

  /** {@code Sample.dataSource()} of every generated sample. */
  public static final String DATA_SOURCE = "synth";

  /**
   * The word tokeniser rule: split on whitespace; {@code <image> <think> </think> <answer> </answer>
   * \boxed{ }} are atomic; every other token is a run of letters, a single digit, or a single other
   * character. Use {@link Matcher#find()} to iterate the tokens; whitespace never matches.
   */
  public static final Pattern TOKEN_PATTERN = Pattern.compile(
      "<image>|<think>|</think>|<answer>|</answer>|\\\\boxed\\{|\\}|\\p{L}+|\\p{Nd}|[^\\p{IsWhite_Space}\\p{L}\\p{Nd}]");

  private static final List<String> VOCABULARY = buildVocabulary();
  private static final int MAX_EVAL_PERIOD = 1000;
  private static final long STREAM_CONTENT = 1;
  private static final long STREAM_IMAGE = 2;

  private final SynthOptions options;
  private final long seed;
  private final int[] evalSlotFamily;
  private final int[] evalSlotRank;
  private final int[] evalCountPerPeriod;
  private final Map<Family, List<Cell>> evalCells;

  /** One balanced-eval cell: the image count and a family-specific second coordinate. */
  private record Cell(int imageCount, int param) implements Serializable {}

  private enum SingleQuestion {
    WHAT_SHAPE, WHAT_COLOUR, IS_COLOUR, IS_SHAPE;

    int answers() {
      return switch (this) {
        case WHAT_SHAPE -> Shape.values().length;
        case WHAT_COLOUR -> Colour.values().length;
        case IS_COLOUR, IS_SHAPE -> 2; // 0 = yes, 1 = no
      };
    }
  }

  public SyntheticBenchmark(SynthOptions options, long seed) {
    this.options = Objects.requireNonNull(options, "options");
    this.seed = seed;
    int[] counts = periodCounts(options);
    int period = 0;
    for (int c : counts) {
      period += c;
    }
    evalCountPerPeriod = counts;
    evalSlotFamily = new int[period];
    evalSlotRank = new int[period];
    interleave(counts, period, evalSlotFamily, evalSlotRank);
    Map<Family, List<Cell>> cells = new EnumMap<>(Family.class);
    for (Family f : Family.values()) {
      cells.put(f, List.copyOf(cellsOf(f, options)));
    }
    evalCells = Collections.unmodifiableMap(cells);
  }

  public SynthOptions options() {
    return options;
  }

  public long seed() {
    return seed;
  }

  /** The id of item {@code index} of a split, e.g. {@code synth-train-000123}. */
  public static String sampleId(Split split, long index) {
    return "synth-" + split.wireName() + "-" + String.format("%06d", index);
  }

  /**
   * The smallest number of consecutive eval indices (starting at any multiple of it) in which every
   * eval cell of every family with weight > 0 occurs equally often. Generate a multiple of it.
   */
  public long evalBalancedSize() {
    long periods = 1;
    for (Family f : Family.values()) {
      int count = evalCountPerPeriod[f.ordinal()];
      if (count > 0) {
        int cells = evalCells.get(f).size();
        periods = lcm(periods, cells / gcd(count, cells));
      }
    }
    return periods * evalSlotFamily.length;
  }

  /** Item {@code index} (>= 0) of {@code split}; depends only on (seed, split, index). */
  public SynthItem generate(Split split, long index) {
    Objects.requireNonNull(split, "split");
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, got " + index);
    }
    long itemSeed = Seeds.derive(seed, Seeds.hash(split.wireName()), index);
    SplittableRandom rng = new SplittableRandom(Seeds.derive(itemSeed, STREAM_CONTENT));
    Family family;
    Cell cell;
    if (split == Split.EVAL) {
      int period = evalSlotFamily.length;
      int slot = (int) (index % period);
      family = Family.values()[evalSlotFamily[slot]];
      long j = (index / period) * evalCountPerPeriod[family.ordinal()] + evalSlotRank[slot];
      List<Cell> cells = evalCells.get(family);
      cell = cells.get((int) (j % cells.size()));
    } else {
      family = drawFamily(rng);
      cell = drawTrainCell(family, rng);
    }
    Draft draft = draft(family, cell, rng);
    List<ImageRef> images = new ArrayList<>(draft.shapes.size());
    for (int slot = 0; slot < draft.shapes.size(); slot++) {
      long imageSeed = Seeds.derive(itemSeed, STREAM_IMAGE, slot);
      images.add(ImageRef.ofBytes(
          ShapeRenderer.render(draft.shapes.get(slot), options.imageSize(), options.noiseSigma(), imageSeed)));
    }
    Sample sample = new Sample(sampleId(split, index), images, draft.prompt, draft.answer, draft.kind,
        family.orderSensitive(), draft.optionSlots, family.wireName(), DATA_SOURCE, List.of(family.stageTag()));
    int verdictSlot = family == Family.WHICH_IMAGE || family == Family.WHICH_OPTION ? cell.param() : 0;
    return new SynthItem(sample, draft.shapes, referenceResponse(draft.shapes, draft.answer, verdictSlot));
  }

  /** The reference response: each image's colour and shape inside think tags, then the boxed answer. */
  public static String referenceResponse(List<ShapeSpec> shapes, String answer) {
    return referenceResponse(shapes, answer, 0);
  }

  /**
   * The reference response; when {@code matchSlot} (1-based) is > 0, each image's description is
   * followed by {@code yes} (it is the image the question asks for) or {@code no}.
   *
   * <p>Why the verdicts: without them the answer needs a two-hop lookup (match the question's
   * colour and shape against every trace entry, then copy that entry's index), which the tiny
   * calibration model learns only after ~600–750 SFT steps at a constant lr 2e-3; a 600-step
   * cosine schedule decays before that and leaves a policy that always answers 1. With the
   * verdict in the trace, the answer is a one-hop copy (the index marked yes), learnt by ~300
   * steps (measured with DemoCalibration).
   */
  public static String referenceResponse(List<ShapeSpec> shapes, String answer, int matchSlot) {
    StringBuilder sb = new StringBuilder("<think>");
    for (int i = 0; i < shapes.size(); i++) {
      sb.append(" img").append(i + 1).append(' ').append(shapes.get(i).describe());
      if (matchSlot > 0) {
        sb.append(i + 1 == matchSlot ? " yes" : " no");
      }
    }
    return sb.append(" </think> \\boxed{").append(answer).append('}').toString();
  }

  /** The tokens of a text under {@link #TOKEN_PATTERN}. */
  public static List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    Matcher m = TOKEN_PATTERN.matcher(text);
    while (m.find()) {
      tokens.add(m.group());
    }
    return tokens;
  }

  /**
   * Every token that can occur in a generated prompt or reference response, for any valid
   * options, in a fixed order (stable across runs, so token ids are too). {@code <answer>} and
   * {@code </answer>} are atomic in {@link #TOKEN_PATTERN} but never generated, so they are not listed.
   */
  public static List<String> vocabulary() {
    return VOCABULARY;
  }

  private static List<String> buildVocabulary() {
    LinkedHashSet<String> v = new LinkedHashSet<>(List.of("<image>", "<think>", "</think>", "\\boxed{", "}",
        "?", ":", ","));
    for (int d = 0; d <= 9; d++) {
      v.add(Integer.toString(d));
    }
    v.addAll(List.of("which", "image", "shows", "a", "option", "how", "many", "images", "show", "shape",
        "order", "the", "by", "size", "of", "their", "smallest", "first", "what", "colour", "is", "in",
        "this", "img", "yes", "no"));
    for (Colour c : Colour.values()) {
      v.add(c.wireName());
    }
    for (Shape s : Shape.values()) {
      v.add(s.wireName());
    }
    for (int i = 0; i < SynthOptions.MAX_IMAGES; i++) {
      v.add(Character.toString('a' + i));
    }
    for (int i = 0; i < SynthOptions.MAX_IMAGES; i++) {
      v.add(Character.toString('A' + i));
    }
    return List.copyOf(v);
  }

  // ---------------------------------------------------------------- drawing the item's plan

  private Family drawFamily(SplittableRandom rng) {
    double total = 0;
    for (double w : options.familyWeights().values()) {
      total += w;
    }
    double u = rng.nextDouble() * total;
    Family last = null;
    for (Map.Entry<Family, Double> e : options.familyWeights().entrySet()) { // enum order
      last = e.getKey();
      u -= e.getValue();
      if (u < 0) {
        return last;
      }
    }
    return last; // rounding at the top end
  }

  private Cell drawTrainCell(Family family, SplittableRandom rng) {
    int lo = options.minImagesFor(family);
    int n = lo + rng.nextInt(options.maxImagesFor(family) - lo + 1);
    return switch (family) {
      case WHICH_IMAGE, WHICH_OPTION -> new Cell(n,
          rng.nextDouble() < options.trainPositionBias() ? 1 : 2 + rng.nextInt(n - 1));
      case ATTRIBUTE_AT, ORDER -> new Cell(n, 1 + rng.nextInt(n));
      case COUNT -> new Cell(n, rng.nextInt(n + 1));
      case SINGLE -> {
        SingleQuestion q = SingleQuestion.values()[rng.nextInt(SingleQuestion.values().length)];
        yield new Cell(1, singleParam(q, rng.nextInt(q.answers())));
      }
    };
  }

  private static List<Cell> cellsOf(Family family, SynthOptions options) {
    List<Cell> cells = new ArrayList<>();
    if (family == Family.SINGLE) {
      for (SingleQuestion q : SingleQuestion.values()) {
        for (int a = 0; a < q.answers(); a++) {
          cells.add(new Cell(1, singleParam(q, a)));
        }
      }
      return cells;
    }
    for (int n = options.minImagesFor(family); n <= options.maxImagesFor(family); n++) {
      if (family == Family.COUNT) {
        for (int c = 0; c <= n; c++) {
          cells.add(new Cell(n, c));
        }
      } else {
        for (int p = 1; p <= n; p++) {
          cells.add(new Cell(n, p));
        }
      }
    }
    return cells;
  }

  /** Packs (question, answer choice) of the single family into one int. */
  private static int singleParam(SingleQuestion q, int answer) {
    return q.ordinal() * 16 + answer;
  }

  // ---------------------------------------------------------------- the families

  /** An item before rendering. */
  private record Draft(List<ShapeSpec> shapes, String prompt, String answer, AnswerKind kind,
      List<Integer> optionSlots) {}

  private Draft draft(Family family, Cell cell, SplittableRandom rng) {
    return switch (family) {
      case WHICH_IMAGE, WHICH_OPTION -> whichImage(family, cell.imageCount(), cell.param(), rng);
      case COUNT -> count(cell.imageCount(), cell.param(), rng);
      case ORDER -> order(cell.imageCount(), cell.param(), rng);
      case ATTRIBUTE_AT -> attributeAt(cell.imageCount(), cell.param(), rng);
      case SINGLE -> single(SingleQuestion.values()[cell.param() / 16], cell.param() % 16, rng);
    };
  }

  /** Exactly one image shows the target; the answer is its slot (or the letter bound to it). */
  private Draft whichImage(Family family, int n, int answerSlot, SplittableRandom rng) {
    Colour colour = randomColour(rng);
    Shape shape = randomShape(rng);
    List<ShapeSpec> shapes = new ArrayList<>(n);
    for (int slot = 1; slot <= n; slot++) {
      if (slot == answerSlot) {
        shapes.add(spec(colour, shape, rng));
      } else if (rng.nextDouble() < options.distractorSimilarity()) {
        // Shares exactly one attribute: the model must check both.
        shapes.add(rng.nextBoolean()
            ? spec(colour, otherShape(shape, rng), rng)
            : spec(otherColour(colour, rng), shape, rng));
      } else {
        shapes.add(spec(otherColour(colour, rng), otherShape(shape, rng), rng));
      }
    }
    String target = colour.wireName() + " " + shape.wireName();
    if (family == Family.WHICH_IMAGE) {
      return new Draft(shapes, placeholders(n) + "which image shows a " + target + " ?",
          Integer.toString(answerSlot), AnswerKind.IMAGE_INDEX, List.of());
    }
    StringBuilder prompt = new StringBuilder();
    List<Integer> slots = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      prompt.append((char) ('a' + i)).append(": ").append(Sample.IMAGE_PLACEHOLDER).append(' ');
      slots.add(i);
    }
    prompt.append("which option shows a ").append(target).append(" ?");
    return new Draft(shapes, prompt.toString(), Character.toString('A' + answerSlot - 1),
        AnswerKind.OPTION_LETTER, slots);
  }

  /** {@code matches} images (at random slots) show the asked colour or shape; the others do not. */
  private Draft count(int n, int matches, SplittableRandom rng) {
    boolean byShape = rng.nextBoolean();
    Colour colour = randomColour(rng);
    Shape shape = randomShape(rng);
    boolean[] match = randomSubset(n, matches, rng);
    List<ShapeSpec> shapes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (byShape) {
        shapes.add(spec(randomColour(rng), match[i] ? shape : otherShape(shape, rng), rng));
      } else {
        shapes.add(spec(match[i] ? colour : otherColour(colour, rng), randomShape(rng), rng));
      }
    }
    String what = byShape ? "a " + shape.wireName() : "a " + colour.wireName() + " shape";
    return new Draft(shapes, placeholders(n) + "how many images show " + what + " ?",
        Integer.toString(matches), AnswerKind.NUMBER, List.of());
  }

  /**
   * Distinct radii at least {@link SynthOptions#ORDER_RADIUS_GAP} apart, the smallest in
   * {@code smallestSlot}. All images share one shape: the shapes differ in area at equal radius,
   * so mixing them would make "size" ambiguous.
   */
  private Draft order(int n, int smallestSlot, SplittableRandom rng) {
    int gap = SynthOptions.ORDER_RADIUS_GAP;
    // Sorted radii r_k with r_{k+1} - r_k >= gap  <=>  s_k = r_k - (gap-1)·k strictly increasing in
    // [minRadius, maxRadius - (gap-1)(n-1)]: choose n distinct s values uniformly.
    int span = options.maxRadius() - (gap - 1) * (n - 1) - options.minRadius() + 1;
    boolean[] chosen = randomSubset(span, n, rng);
    int[] radii = new int[n];
    for (int v = 0, k = 0; v < span; v++) {
      if (chosen[v]) {
        radii[k] = options.minRadius() + v + (gap - 1) * k;
        k++;
      }
    }
    // radii[0] (smallest) goes to smallestSlot; the rest to the other slots in random order.
    int[] slotOfRank = new int[n];
    slotOfRank[0] = smallestSlot - 1;
    int[] others = new int[n - 1];
    for (int s = 0, k = 0; s < n; s++) {
      if (s != smallestSlot - 1) {
        others[k++] = s;
      }
    }
    shuffle(others, rng);
    System.arraycopy(others, 0, slotOfRank, 1, n - 1);
    Shape shape = randomShape(rng);
    ShapeSpec[] bySlot = new ShapeSpec[n];
    for (int k = 0; k < n; k++) {
      bySlot[slotOfRank[k]] = new ShapeSpec(randomColour(rng), shape, radii[k], randomIntensity(rng));
    }
    StringBuilder answer = new StringBuilder();
    for (int k = 0; k < n; k++) {
      answer.append(k == 0 ? "" : ",").append(slotOfRank[k] + 1);
    }
    return new Draft(List.of(bySlot),
        placeholders(n) + "order the images by the size of their shape , smallest first",
        answer.toString(), AnswerKind.ORDERING, List.of());
  }

  /** Asks for the colour or the shape of the image in one slot. */
  private Draft attributeAt(int n, int askedSlot, SplittableRandom rng) {
    List<ShapeSpec> shapes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      shapes.add(spec(randomColour(rng), randomShape(rng), rng));
    }
    ShapeSpec asked = shapes.get(askedSlot - 1);
    boolean byColour = rng.nextBoolean();
    String question = byColour
        ? "what colour is the shape in image " + askedSlot + " ?"
        : "what shape is in image " + askedSlot + " ?";
    String answer = byColour ? asked.colour().wireName() : asked.shape().wireName();
    return new Draft(shapes, placeholders(n) + question, answer, AnswerKind.TEXT, List.of());
  }

  private Draft single(SingleQuestion q, int answerChoice, SplittableRandom rng) {
    String ph = placeholders(1);
    return switch (q) {
      case WHAT_SHAPE -> {
        Shape shape = Shape.values()[answerChoice];
        yield new Draft(List.of(spec(randomColour(rng), shape, rng)), ph + "what shape is this ?",
            shape.wireName(), AnswerKind.TEXT, List.of());
      }
      case WHAT_COLOUR -> {
        Colour colour = Colour.values()[answerChoice];
        yield new Draft(List.of(spec(colour, randomShape(rng), rng)), ph + "what colour is this ?",
            colour.wireName(), AnswerKind.TEXT, List.of());
      }
      case IS_COLOUR -> {
        boolean yes = answerChoice == 0;
        Colour asked = randomColour(rng);
        ShapeSpec s = spec(yes ? asked : otherColour(asked, rng), randomShape(rng), rng);
        yield new Draft(List.of(s), ph + "is the shape " + asked.wireName() + " ?", yes ? "yes" : "no",
            AnswerKind.YES_NO, List.of());
      }
      case IS_SHAPE -> {
        boolean yes = answerChoice == 0;
        Shape asked = randomShape(rng);
        ShapeSpec s = spec(randomColour(rng), yes ? asked : otherShape(asked, rng), rng);
        yield new Draft(List.of(s), ph + "is this a " + asked.wireName() + " ?", yes ? "yes" : "no",
            AnswerKind.YES_NO, List.of());
      }
    };
  }

  // ---------------------------------------------------------------- small helpers

  private ShapeSpec spec(Colour colour, Shape shape, SplittableRandom rng) {
    int radius = options.minRadius() + rng.nextInt(options.maxRadius() - options.minRadius() + 1);
    return new ShapeSpec(colour, shape, radius, randomIntensity(rng));
  }

  private double randomIntensity(SplittableRandom rng) {
    return options.minIntensity() + rng.nextDouble() * (options.maxIntensity() - options.minIntensity());
  }

  private static Colour randomColour(SplittableRandom rng) {
    return Colour.values()[rng.nextInt(Colour.values().length)];
  }

  private static Shape randomShape(SplittableRandom rng) {
    return Shape.values()[rng.nextInt(Shape.values().length)];
  }

  private static Colour otherColour(Colour not, SplittableRandom rng) {
    int i = rng.nextInt(Colour.values().length - 1);
    return Colour.values()[i >= not.ordinal() ? i + 1 : i];
  }

  private static Shape otherShape(Shape not, SplittableRandom rng) {
    int i = rng.nextInt(Shape.values().length - 1);
    return Shape.values()[i >= not.ordinal() ? i + 1 : i];
  }

  /** A uniformly random k-subset of 0..n-1, as membership flags. */
  private static boolean[] randomSubset(int n, int k, SplittableRandom rng) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    boolean[] in = new boolean[n];
    for (int i = 0; i < k; i++) {
      int j = i + rng.nextInt(n - i);
      int t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      in[idx[i]] = true;
    }
    return in;
  }

  private static void shuffle(int[] a, SplittableRandom rng) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  private static String placeholders(int n) {
    return (Sample.IMAGE_PLACEHOLDER + " ").repeat(n);
  }

  // ---------------------------------------------------------------- eval layout

  /** Integer family counts per eval period; see the class comment. */
  static int[] periodCounts(SynthOptions options) {
    Family[] families = Family.values();
    double total = 0;
    for (Family f : families) {
      total += options.weight(f);
    }
    for (int period = 1; period <= MAX_EVAL_PERIOD; period++) {
      int[] counts = new int[families.length];
      boolean exact = true;
      for (Family f : families) {
        double share = options.weight(f) / total * period;
        long rounded = Math.round(share);
        if (Math.abs(share - rounded) > 1e-9 * period || (options.weight(f) > 0 && rounded == 0)) {
          exact = false;
          break;
        }
        counts[f.ordinal()] = (int) rounded;
      }
      if (exact) {
        return counts;
      }
    }
    return largestRemainder(options, total);
  }

  private static int[] largestRemainder(SynthOptions options, double total) {
    Family[] families = Family.values();
    int[] counts = new int[families.length];
    double[] remainder = new double[families.length];
    int assigned = 0;
    for (Family f : families) {
      double share = options.weight(f) / total * MAX_EVAL_PERIOD;
      counts[f.ordinal()] = (int) Math.floor(share);
      remainder[f.ordinal()] = share - counts[f.ordinal()];
      assigned += counts[f.ordinal()];
    }
    while (assigned < MAX_EVAL_PERIOD) {
      int best = -1;
      for (int i = 0; i < families.length; i++) {
        if (options.weight(families[i]) > 0 && (best < 0 || remainder[i] > remainder[best])) {
          best = i;
        }
      }
      counts[best]++;
      remainder[best] = -1;
      assigned++;
    }
    // A family with weight > 0 keeps at least one slot, taken from the largest.
    for (Family f : families) {
      if (options.weight(f) > 0 && counts[f.ordinal()] == 0) {
        int largest = 0;
        for (int i = 1; i < counts.length; i++) {
          if (counts[i] > counts[largest]) {
            largest = i;
          }
        }
        counts[largest]--;
        counts[f.ordinal()] = 1;
      }
    }
    return counts;
  }

  /** Smooth weighted round-robin: spreads each family's slots evenly over the period. */
  private static void interleave(int[] counts, int period, int[] slotFamily, int[] slotRank) {
    long[] current = new long[counts.length];
    int[] seen = new int[counts.length];
    for (int slot = 0; slot < period; slot++) {
      int pick = -1;
      for (int f = 0; f < counts.length; f++) {
        current[f] += counts[f];
        if (counts[f] > 0 && (pick < 0 || current[f] > current[pick])) {
          pick = f;
        }
      }
      current[pick] -= period;
      slotFamily[slot] = pick;
      slotRank[slot] = seen[pick]++;
    }
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  private static long lcm(long a, long b) {
    return a / gcd(a, b) * b;
  }
}
