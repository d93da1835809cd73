package io.perlspark.model.family.qwen25vl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import io.perlspark.model.policy.Engines;
import io.perlspark.model.policy.GenerationOptions;
import io.perlspark.model.policy.GenerationResult;
import io.perlspark.model.policy.ResponseTensors;
import io.perlspark.model.policy.TokenScores;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parity of {@link Qwen25VlModel} with Hugging Face transformers (the reference tensors of the
 * fixture folder, see {@link QwenFixtures}) on both checkpoints and all four cases. Inputs are the
 * reference processor outputs. Every comparison's max error is printed at the end.
 */
class Qwen25VlParityTest {
  static final String[] CHECKPOINTS = {"tiny-tied", "tiny-untied"};
  static final String[] CASES = {"A", "B", "C", "D"};
  /** Absolute tolerance of activations, log-probs and logits (float32 vs float32, other kernels). */
  static final double ABS_TOL = 1e-4;
  /** Top-k ranks are compared only where the reference's neighbouring logits differ by more. */
  static final double RANK_GAP = 1e-3;

  static QwenFixtures fx;
  static final Map<String, Qwen25VlModel> MODELS = new LinkedHashMap<>();
  /** comparison -> checkpoint -> max error over cases. */
  static final Map<String, Map<String, Double>> ERRORS = new TreeMap<>();

  @BeforeAll
  static void load() throws IOException {
    fx = QwenFixtures.open();
    for (String ckpt : CHECKPOINTS) {
      MODELS.put(ckpt, Qwen25VlModel.load(fx.checkpoint(ckpt), Device.cpu()));
    }
  }

  @AfterAll
  static void report() throws IOException {
    StringBuilder sb = new StringBuilder("\nQwen2.5-VL parity: max |error| per comparison\n");
    sb.append(String.format("%-58s %12s %12s%n", "comparison", CHECKPOINTS[0], CHECKPOINTS[1]));
    for (Map.Entry<String, Map<String, Double>> e : ERRORS.entrySet()) {
      sb.append(String.format("%-58s %12s %12s%n", e.getKey(),
          fmt(e.getValue().get(CHECKPOINTS[0])), fmt(e.getValue().get(CHECKPOINTS[1]))));
    }
    System.out.println(sb);
    for (Qwen25VlModel m : MODELS.values()) {
      m.close();
    }
    fx.close();
  }

  private static String fmt(Double d) {
    return d == null ? "-" : String.format("%.3e", d);
  }

  static synchronized void record(String ckpt, String what, double err) {
    ERRORS.computeIfAbsent(what, k -> new TreeMap<>()).merge(ckpt, err, Math::max);
  }

  // ------------------------------------------------------------------ fixture inputs

  /** The reference inputs of one case. */
  record CaseInputs(long[][] ids, int[][] mask, List<float[]> pixels, List<int[]> grids) {
    int batch() {
      return ids.length;
    }

    int length() {
      return ids[0].length;
    }

    /** Each row without its (left) padding, with its own images (in order). */
    List<Qwen25VlPrompt> prompts() {
      List<Qwen25VlPrompt> out = new ArrayList<>();
      int image = 0;
      for (int b = 0; b < batch(); b++) {
        List<Integer> ids = new ArrayList<>();
        for (int l = 0; l < length(); l++) {
          if (mask[b][l] == 1) {
            ids.add((int) this.ids[b][l]);
          }
        }
        int[] tokens = ids.stream().mapToInt(Integer::intValue).toArray();
        int imageTokens = 0;
        for (int t : tokens) {
          imageTokens += t == 151655 ? 1 : 0;
        }
        List<float[]> px = new ArrayList<>();
        List<int[]> gr = new ArrayList<>();
        while (imageTokens > 0) {
          int[] g = grids.get(image);
          px.add(pixels.get(image));
          gr.add(g);
          imageTokens -= g[0] * g[1] * g[2] / 4;
          image++;
        }
        out.add(new Qwen25VlPrompt(tokens, px, gr));
      }
      return out;
    }
  }

  static CaseInputs inputs(String c, NDManager m) {
    String p = "inputs/" + c + "/";
    long[] flatIds = fx.longs(p + "input_ids", m);
    long[] flatMask = fx.longs(p + "attention_mask", m);
    int batch = fx.caseJson(c).get("input_ids").size();
    int length = flatIds.length / batch;
    long[][] ids = new long[batch][length];
    int[][] mask = new int[batch][length];
    for (int b = 0; b < batch; b++) {
      for (int l = 0; l < length; l++) {
        ids[b][l] = flatIds[b * length + l];
        mask[b][l] = (int) flatMask[b * length + l];
      }
    }
    List<float[]> pixels = new ArrayList<>();
    List<int[]> grids = new ArrayList<>();
    if (fx.has(p + "image_grid_thw")) {
      long[] g = fx.longs(p + "image_grid_thw", m);
      float[] all;
      try (NDArray px = fx.tensor(p + "pixel_values", m)) {
        all = px.toFloatArray();
      }
      int at = 0;
      for (int i = 0; i < g.length / 3; i++) {
        int[] grid = {(int) g[3 * i], (int) g[3 * i + 1], (int) g[3 * i + 2]};
        int n = grid[0] * grid[1] * grid[2] * 1176;
        float[] image = new float[n];
        System.arraycopy(all, at, image, 0, n);
        at += n;
        pixels.add(image);
        grids.add(grid);
      }
      assertEquals(all.length, at, "pixel rows must match the grids");
    }
    return new CaseInputs(ids, mask, pixels, grids);
  }

  // ------------------------------------------------------------------ comparisons

  static double maxAbs(float[] ours, float[] ref) {
    assertEquals(ref.length, ours.length, "element count");
    double max = 0;
    for (int i = 0; i < ref.length; i++) {
      max = Math.max(max, Math.abs((double) ours[i] - ref[i]));
    }
    return max;
  }

  /** Max |diff| over rows whose flag is set; a row is {@code rowSize} consecutive values. */
  static double maxAbsRows(float[] ours, float[] ref, boolean[] rowValid, int rowSize) {
    assertEquals(ref.length, ours.length, "element count");
    assertEquals(rowValid.length * rowSize, ref.length, "row count");
    double max = 0;
    for (int r = 0; r < rowValid.length; r++) {
      if (!rowValid[r]) {
        continue;
      }
      for (int i = r * rowSize; i < (r + 1) * rowSize; i++) {
        max = Math.max(max, Math.abs((double) ours[i] - ref[i]));
      }
    }
    return max;
  }

  void check(String ckpt, String c, String what, double err) {
    record(ckpt, what, err);
    System.out.printf("%s %s %-30s max|err| = %.3e%n", ckpt, c, what, err);
    assertTrue(err <= ABS_TOL, ckpt + " case " + c + " " + what + ": max |error| " + err);
  }

  static float[] ref(String name, NDManager m) {
    try (NDArray a = fx.tensor(name, m)) {
      return a.toFloatArray();
    }
  }

  // ------------------------------------------------------------------ tests

  @Test
  void ropeIndexEqualsReferencePositionsAndDeltas() {
    Qwen25VlModel model = MODELS.get("tiny-tied");
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      for (String c : CASES) {
        CaseInputs in = inputs(c, m);
        Qwen25VlRope.RopeIndex rope = model.ropeIndex(in.ids(), in.mask(), in.grids());
        long[] refPos = fx.longs("inputs/" + c + "/position_ids", m);
        long[] ours = new long[refPos.length];
        int at = 0;
        for (int a = 0; a < 3; a++) {
          for (int b = 0; b < in.batch(); b++) {
            for (int l = 0; l < in.length(); l++) {
              ours[at++] = rope.positions()[a][b][l];
            }
          }
        }
        assertArrayEquals(refPos, ours, "case " + c + " position_ids");
        assertArrayEquals(fx.longs("inputs/" + c + "/rope_deltas", m), rope.ropeDeltas(),
            "case " + c + " rope_deltas");
        if (!in.grids().isEmpty()) {
          long[] rot = fx.longs("inputs/" + c + "/vision/rot_pos_ids", m);
          int[][] rc = Qwen25VlRope.patchRowCol(in.grids(), 2);
          long[] oursRot = new long[rc.length * 2];
          for (int i = 0; i < rc.length; i++) {
            oursRot[2 * i] = rc[i][0];
            oursRot[2 * i + 1] = rc[i][1];
          }
          assertArrayEquals(rot, oursRot, "case " + c + " rot_pos_ids");
        }
      }
    }
  }

  @Test
  @SuppressWarnings("try")
  void forwardMatchesReferenceOnEveryCase() {
    for (String ckpt : CHECKPOINTS) {
      Qwen25VlModel model = MODELS.get(ckpt);
      for (String c : CASES) {
        try (Engines.NoGrad noGrad = Engines.noGrad();
            NDManager m = model.manager().newSubManager()) {
          forwardCase(model, ckpt, c, m);
        }
      }
    }
  }

  private void forwardCase(Qwen25VlModel model, String ckpt, String c, NDManager m) {
    CaseInputs in = inputs(c, m);
    String r = ckpt + "/" + c + "/";
    Qwen25VlModel.Trace t =
        model.forward(m, in.ids(), in.mask(), in.pixels(), in.grids(), true);
    int batch = in.batch();
    int length = in.length();
    int hidden = model.config().hiddenSize();
    boolean[] valid = new boolean[batch * length];
    for (int b = 0; b < batch; b++) {
      for (int l = 0; l < length; l++) {
        valid[b * length + l] = in.mask()[b][l] == 1;
      }
    }
    if (!in.grids().isEmpty()) {
      assertArrayEquals(fx.longs(r + "vision/window_index", m),
          java.util.Arrays.stream(t.windows().windowIndex()).asLongStream().toArray(),
          r + "window_index");
      assertArrayEquals(fx.longs(r + "vision/cu_window_seqlens", m),
          java.util.Arrays.stream(t.windows().cuWindowSeqlens()).asLongStream().toArray(),
          r + "cu_window_seqlens");
      assertArrayEquals(fx.longs("inputs/" + c + "/vision/cu_seqlens", m),
          java.util.Arrays.stream(t.windows().cuSeqlens()).asLongStream().toArray(),
          r + "cu_seqlens");
      check(ckpt, c, "vision.patch_embed_out",
          maxAbs(t.patchEmbed().toFloatArray(), ref(r + "vision/patch_embed_out", m)));
      for (int i = 0; i < t.visionBlocks().size(); i++) {
        check(ckpt, c, "vision.block" + i + "_out", maxAbs(t.visionBlocks().get(i).toFloatArray(),
            ref(r + "vision/block" + i + "_out_windoworder", m)));
      }
      check(ckpt, c, "vision.merger_out", maxAbs(t.mergerOutWindowOrder().toFloatArray(),
          ref(r + "vision/merger_out_windoworder", m)));
      check(ckpt, c, "vision.image_embeds",
          maxAbs(t.imageEmbeds().toFloatArray(), ref(r + "vision/image_embeds", m)));
    }
    check(ckpt, c, "lm.inputs_embeds", maxAbsRows(t.inputsEmbeds().toFloatArray(),
        ref(r + "lm/inputs_embeds", m), valid, hidden));
    for (int i = 0; i < t.layerOutputs().size(); i++) {
      check(ckpt, c, "lm.layer" + i + "_out", maxAbsRows(t.layerOutputs().get(i).toFloatArray(),
          ref(r + "lm/layer" + i + "_out", m), valid, hidden));
    }
    check(ckpt, c, "lm.final_norm_out", maxAbsRows(t.finalNorm().toFloatArray(),
        ref(r + "lm/final_norm_out", m), valid, hidden));

    NDArray logits = model.logits(t.finalNorm()); // [B, L, V]
    NDArray logSoftmax = logits.logSoftmax(-1);
    // logprob_next[b, t] = log_softmax(logits[b, t])[ids[b, t + 1]]
    long[] next = new long[batch * (length - 1)];
    boolean[] nextValid = new boolean[batch * (length - 1)];
    for (int b = 0; b < batch; b++) {
      for (int l = 0; l + 1 < length; l++) {
        next[b * (length - 1) + l] = in.ids()[b][l + 1];
        nextValid[b * (length - 1) + l] = in.mask()[b][l] == 1 && in.mask()[b][l + 1] == 1;
      }
    }
    NDArray picked = logSoftmax.get(new NDIndex(":, :-1, :"))
        .gather(m.create(next, new ai.djl.ndarray.types.Shape(batch, length - 1, 1)), 2);
    check(ckpt, c, "logprob_next",
        maxAbsRows(picked.toFloatArray(), ref(r + "logprob_next", m), nextValid, 1));
    NDArray logSumExp = logits.sub(logSoftmax).get(new NDIndex(":, :, 0"));
    check(ckpt, c, "logsumexp",
        maxAbsRows(logSumExp.toFloatArray(), ref(r + "logsumexp", m), valid, 1));

    // Logits of the probe ids at the last 4 positions, and the full last-position logits.
    long[] probe = fx.longs("probe_ids", m);
    NDArray last4 = logits.get(new NDIndex(":, -4:, :"))
        .gather(m.create(probe).reshape(1, 1, probe.length)
            .broadcast(new ai.djl.ndarray.types.Shape(batch, 4, probe.length)), 2);
    check(ckpt, c, "logits_probe_last4", maxAbs(last4.toFloatArray(),
        ref(r + "logits_probe_last4", m)));
    if (fx.has(r + "logits_last1")) {
      check(ckpt, c, "logits_last1 (full vocab)", maxAbs(
          logits.get(new NDIndex(":, -1, :")).toFloatArray(), ref(r + "logits_last1", m)));
    }

    // Top-20: our logits at the reference ids, and the ids at every rank the reference separates.
    int k = 20;
    long[] refIds = fx.longs(r + "topk_ids", m);
    float[] refValues = ref(r + "topk_values", m);
    NDArray atRefIds = logits.gather(m.create(refIds, new ai.djl.ndarray.types.Shape(batch,
        length, k)), 2);
    check(ckpt, c, "topk_values (at ref ids)",
        maxAbsRows(atRefIds.toFloatArray(), refValues, valid, k));
    NDList top = logits.topK(k, -1, true, true);
    long[] ourIds = top.get(1).toType(DataType.INT64, false).toLongArray();
    int compared = 0;
    for (int row = 0; row < batch * length; row++) {
      if (!valid[row]) {
        continue;
      }
      for (int rank = 0; rank < k - 1; rank++) {
        int i = row * k + rank;
        boolean separatedAbove = rank == 0 || refValues[i - 1] - refValues[i] > RANK_GAP;
        boolean separatedBelow = refValues[i] - refValues[i + 1] > RANK_GAP;
        if (separatedAbove && separatedBelow) {
          assertEquals(refIds[i], ourIds[i], r + " top-k id at row " + row + " rank " + rank);
          compared++;
        }
      }
    }
    assertTrue(compared > 0, "some top-k ranks must be compared");
    System.out.printf("%s %s top-k ids equal at %d separated ranks%n", ckpt, c, compared);
  }

  @Test
  void greedyGenerationEqualsReference() {
    for (String ckpt : CHECKPOINTS) {
      Qwen25VlModel model = MODELS.get(ckpt);
      for (String c : CASES) {
        String r = ckpt + "/" + c + "/gen/";
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
          CaseInputs in = inputs(c, m);
          List<Qwen25VlPrompt> prompts = in.prompts();
          int steps = 12;
          GenerationOptions greedy = GenerationOptions.builder().optTemperature(0f)
              .optMaxNewTokens(steps).setSeeds(new long[prompts.size()]).build();
          // The reference ran with min_new_tokens=12: eos masked for every step.
          GenerationResult out = model.generate(prompts, greedy, steps);
          long[] refIds = fx.longs(r + "new_ids", m);
          long[] top5 = fx.longs(r + "top5_ids", m);
          float[] top5Logits = ref(r + "top5_logits", m);
          float[] logSumExp = ref(r + "logsumexp", m);
          double maxErr = 0;
          for (int b = 0; b < prompts.size(); b++) {
            assertEquals(steps, out.tokens()[b].length, r + " row " + b + " length");
            for (int s = 0; s < steps; s++) {
              assertEquals(refIds[b * steps + s], out.tokens()[b][s],
                  r + " row " + b + " step " + s);
              // Log-prob of the chosen token = its raw logit - logsumexp, when it is the raw top 1.
              if (top5[(b * steps + s) * 5] == refIds[b * steps + s]) {
                double expected = top5Logits[(b * steps + s) * 5] - logSumExp[b * steps + s];
                maxErr = Math.max(maxErr, Math.abs(expected - out.logProbs()[b][s]));
              }
            }
          }
          check(ckpt, c, "generation logprob (12 steps)", maxErr);
        }
      }
    }
  }

  /**
   * Stopping: with the generation config's eos ids replaced by a token the reference generates
   * at step 3, greedy decoding stops right after it (finished); with minNewTokens past that step
   * it is never emitted before the minimum.
   */
  @Test
  void generationStopsAtEosAndHonoursMinNewTokens() throws IOException {
    String ckpt = "tiny-tied";
    Qwen25VlConfig base = MODELS.get(ckpt).config();
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      long[] ref = fx.longs(ckpt + "/D/gen/new_ids", m); // [2, 12]
      int stop = (int) ref[3]; // row 0, step 3 (first occurrence there)
      int firstAt = 0;
      while (ref[firstAt] != stop) {
        firstAt++;
      }
      Qwen25VlConfig config = new Qwen25VlConfig(base.vocabSize(), base.hiddenSize(),
          base.numLayers(), base.numHeads(), base.numKvHeads(), base.headDim(),
          base.intermediateSize(), base.rmsNormEps(), base.ropeTheta(), base.mropeSection(),
          base.tieWordEmbeddings(), base.imageTokenId(), base.videoTokenId(),
          base.visionStartTokenId(), base.visionEndTokenId(), new int[] {stop},
          base.padTokenId(), base.vision());
      try (Qwen25VlModel model = Qwen25VlModel.load(fx.checkpoint(ckpt), config, Device.cpu())) {
        List<Qwen25VlPrompt> prompts = inputs("D", m).prompts();
        GenerationOptions greedy = GenerationOptions.builder().optTemperature(0f)
            .optMaxNewTokens(12).setSeeds(0, 0).build();
        GenerationResult out = model.generate(prompts, greedy, 0);
        assertTrue(out.finished()[0], "row 0 generated the stop id");
        assertEquals(firstAt + 1, out.tokens()[0].length);
        for (int s = 0; s <= firstAt; s++) {
          assertEquals(ref[s], out.tokens()[0][s]);
        }
        assertEquals(12, out.tokens()[1].length, "row 1 never generates it");
        GenerationResult late = model.generate(prompts, greedy, firstAt + 2);
        for (int s = 0; s < Math.min(firstAt + 2, late.tokens()[0].length); s++) {
          assertTrue(late.tokens()[0][s] != stop, "stop id before minNewTokens at step " + s);
        }
        GenerationResult ignore = model.generate(prompts, GenerationOptions.builder()
            .optTemperature(0f).optMaxNewTokens(12).setSeeds(0, 0).optIgnoreEos(true).build());
        assertEquals(12, ignore.tokens()[0].length);
        assertFalse(ignore.finished()[0]);
      }
    }
  }

  @Test
  @SuppressWarnings("try")
  void trainingLossAndGradientsMatchReference() throws IOException {
    for (String ckpt : CHECKPOINTS) {
      Qwen25VlModel model = MODELS.get(ckpt);
      JsonNode training = fx.caseJson("A").get("per_checkpoint").get(ckpt).get("training");
      String r = ckpt + "/A/train/";
      try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
        CaseInputs in = inputs("A", m);
        Qwen25VlPrompt whole = in.prompts().get(0);
        int n = whole.length();
        int[] response = java.util.Arrays.copyOfRange(whole.inputIds(), n - 8, n);
        int[] targets = new int[8];
        for (int i = 0; i < 8; i++) {
          targets[i] = training.get("target_ids").get(i).asInt();
        }
        assertArrayEquals(targets, response, "the loss targets are the last 8 tokens");
        Qwen25VlPrompt prompt = new Qwen25VlPrompt(
            java.util.Arrays.copyOf(whole.inputIds(), n - 8), whole.pixels(), whole.grids());
        Map<String, float[]> grads = new LinkedHashMap<>();
        float loss;
        synchronized (Engines.TRAINING_LOCK) {
          Engines.zeroGradients(model.parameters());
          try (NDManager step = model.manager().newSubManager();
              GradientCollector gc = Engines.engine().newGradientCollector()) {
            ResponseTensors rt = model.responseTensors(step, List.of(prompt),
                new int[][] {response}, 1f, false);
            NDArray lossArray = rt.logProbs().mean().neg();
            loss = lossArray.getFloat();
            gc.backward(lossArray);
          }
          for (Parameter p : model.parameters()) {
            try (NDArray g = p.getArray().getGradient()) {
              grads.put(p.getName(), g.toFloatArray());
            }
          }
          Engines.zeroGradients(model.parameters());
        }
        double refLoss = training.get("loss").asDouble();
        double lossRel = Math.abs(loss - refLoss) / Math.abs(refLoss);
        record(ckpt, "train.loss (relative)", lossRel);
        System.out.printf("%s A train loss %.7f vs %.7f rel %.3e%n", ckpt, loss, refLoss, lossRel);
        assertTrue(lossRel <= 1e-5, ckpt + " loss " + loss + " vs " + refLoss);

        // Every parameter's gradient norm (cases.json), relative.
        double worstNorm = 0;
        JsonNode norms = training.get("grad_norms");
        assertEquals(model.parameters().size(), norms.size(), "one reference norm per parameter");
        for (Iterator<Map.Entry<String, JsonNode>> it = norms.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          float[] g = grads.get(e.getKey());
          assertNotNull(g, "no parameter " + e.getKey());
          double rel = Math.abs(norm(g) - e.getValue().asDouble()) / e.getValue().asDouble();
          worstNorm = Math.max(worstNorm, rel);
          assertTrue(rel <= 1e-4, ckpt + " grad norm of " + e.getKey() + ": rel error " + rel);
        }
        record(ckpt, "train.grad_norms (relative, all)", worstNorm);

        // Full gradients where the fixture has them: relative L2 error.
        for (String name : fx.safeTensors().tensors().keySet()) {
          if (!name.startsWith(r) || name.equals(r + "loss") || name.endsWith(".rows_ids")) {
            continue;
          }
          String what = name.substring(r.length());
          float[] ours;
          if (what.endsWith(".rowsum")) {
            ours = rowSums(grads.get(what.substring(0, what.length() - ".rowsum".length())),
                model.config().hiddenSize());
          } else if (what.endsWith(".rows")) {
            ours = selectRows(grads.get(what.substring(0, what.length() - ".rows".length())),
                fx.longs(name + "_ids", m), model.config().hiddenSize());
          } else {
            ours = grads.get(what);
          }
          assertNotNull(ours, "no gradient for " + what);
          float[] expected = ref(name, m);
          double rel = relL2(ours, expected);
          record(ckpt, "train.grad " + what + " (rel L2)", rel);
          System.out.printf("%s A grad %-45s rel L2 %.3e%n", ckpt, what, rel);
          assertTrue(rel <= 1e-4, ckpt + " gradient " + what + ": relative L2 error " + rel);
        }
      }
    }
  }

  /**
   * The differentiable path over several LM-head chunks: its values equal score(), and the
   * gradient of the batch's summed log-probs equals the sum of the rows' gradients taken one by
   * one (each within one chunk), so chunk boundaries lose nothing in backward.
   */
  @Test
  void chunkedTrainingPathEqualsScoreAndRowByRowGradients() {
    Qwen25VlModel model = MODELS.get("tiny-tied");
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      List<Qwen25VlPrompt> prompts = new ArrayList<>(inputs("D", m).prompts());
      prompts.add(inputs("A", m).prompts().get(0));
      int steps = 24;
      int[][] responses = model.generate(prompts, GenerationOptions.builder().optTemperature(1f)
          .optMaxNewTokens(steps).optIgnoreEos(true).setSeeds(5, 6, 7).build()).tokens();
      assertTrue(prompts.size() * steps > Qwen25VlModel.LOGIT_CHUNK_ROWS);
      assertTrue(steps <= Qwen25VlModel.LOGIT_CHUNK_ROWS);
      TokenScores scores = model.score(prompts, responses, 0.8f, true);
      float[] batchGrad;
      synchronized (Engines.TRAINING_LOCK) {
        Engines.zeroGradients(model.parameters());
        try (NDManager step = model.manager().newSubManager();
            GradientCollector gc = Engines.engine().newGradientCollector()) {
          ResponseTensors rt = model.responseTensors(step, prompts, responses, 0.8f, true);
          float[] lp = rt.logProbs().toFloatArray();
          float[] ent = rt.entropies().toFloatArray();
          double worst = 0;
          for (int b = 0; b < prompts.size(); b++) {
            for (int s = 0; s < steps; s++) {
              worst = Math.max(worst, Math.abs(lp[b * steps + s] - scores.logProbs()[b][s]));
              worst = Math.max(worst, Math.abs(ent[b * steps + s] - scores.entropies()[b][s]));
            }
          }
          check("tiny-tied", "D+A", "training path vs score", worst);
          gc.backward(rt.logProbs().sum());
        }
        batchGrad = io.perlspark.model.learn.FlatParameters.gradients(model.parameters());
        float[] summed = new float[batchGrad.length];
        for (int b = 0; b < prompts.size(); b++) {
          Engines.zeroGradients(model.parameters());
          try (NDManager step = model.manager().newSubManager();
              GradientCollector gc = Engines.engine().newGradientCollector()) {
            gc.backward(model.responseTensors(step, List.of(prompts.get(b)),
                new int[][] {responses[b]}, 0.8f, false).logProbs().sum());
          }
          float[] g = io.perlspark.model.learn.FlatParameters.gradients(model.parameters());
          for (int i = 0; i < g.length; i++) {
            summed[i] += g[i];
          }
        }
        Engines.zeroGradients(model.parameters());
        double rel = relL2(batchGrad, summed);
        record("tiny-tied", "chunked grad vs row-by-row (rel L2)", rel);
        System.out.printf("tiny-tied chunked gradient vs row-by-row rel L2 %.3e%n", rel);
        assertTrue(rel <= 1e-4, "chunked gradient differs from row-by-row: " + rel);
      }
    }
  }

  static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return Math.sqrt(s);
  }

  static double relL2(float[] ours, float[] ref) {
    assertEquals(ref.length, ours.length);
    double d = 0;
    for (int i = 0; i < ref.length; i++) {
      double e = (double) ours[i] - ref[i];
      d += e * e;
    }
    return Math.sqrt(d) / norm(ref);
  }

  static float[] rowSums(float[] matrix, int width) {
    float[] out = new float[matrix.length / width];
    for (int r = 0; r < out.length; r++) {
      double s = 0;
      for (int i = 0; i < width; i++) {
        s += matrix[r * width + i];
      }
      out[r] = (float) s;
    }
    return out;
  }

  static float[] selectRows(float[] matrix, long[] rowIds, int width) {
    float[] out = new float[rowIds.length * width];
    for (int r = 0; r < rowIds.length; r++) {
      System.arraycopy(matrix, (int) rowIds[r] * width, out, r * width, width);
    }
    return out;
  }

  @Test
  void batchedSamplingEqualsOneByOneAndScoreReproducesItsLogProbs() {
    Qwen25VlModel model = MODELS.get("tiny-untied");
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      List<Qwen25VlPrompt> prompts = new ArrayList<>(inputs("D", m).prompts());
      prompts.add(inputs("C", m).prompts().get(0));
      long[] seeds = {11, 22, 33};
      GenerationOptions options = GenerationOptions.builder().optTemperature(1f).optTopP(0.95f)
          .optMaxNewTokens(24).setSeeds(seeds).build();
      GenerationResult batched = model.generate(prompts, options);
      double worst = 0;
      for (int b = 0; b < prompts.size(); b++) {
        GenerationResult single = model.generate(List.of(prompts.get(b)),
            options.withSeeds(seeds[b]));
        assertArrayEquals(single.tokens()[0], batched.tokens()[b], "row " + b + " tokens");
        assertEquals(single.finished()[0], batched.finished()[b]);
        for (int s = 0; s < single.tokens()[0].length; s++) {
          worst = Math.max(worst, Math.abs(single.logProbs()[0][s] - batched.logProbs()[b][s]));
        }
        for (int token : batched.tokens()[b]) {
          assertTrue(token < 151652 || token > 151656, "vision special token " + token);
        }
      }
      check("tiny-untied", "D+C", "batched vs single logprob", worst);
      TokenScores scores = model.score(prompts, batched.tokens(), 1f, true);
      double scoreErr = 0;
      for (int b = 0; b < prompts.size(); b++) {
        for (int s = 0; s < batched.tokens()[b].length; s++) {
          scoreErr = Math.max(scoreErr,
              Math.abs(scores.logProbs()[b][s] - batched.logProbs()[b][s]));
          assertTrue(scores.entropies()[b][s] >= 0f);
        }
      }
      check("tiny-untied", "D+C", "score vs generation logprob", scoreErr);
      int positions = 0;
      for (int[] t : batched.tokens()) {
        positions = Math.max(positions, t.length);
      }
      assertTrue(positions * prompts.size() > Qwen25VlModel.LOGIT_CHUNK_ROWS,
          "scoring must span several LM-head chunks");
    }
  }
}
