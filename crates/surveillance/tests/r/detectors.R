# Reference outputs of R `surveillance` (1.20.3) for the detectors healthplan shares with it:
# EARS C1/C2/C3 (earsC), the Poisson CUSUM (algo.cusum) and Farrington flexible
# (farringtonFlexible, nbPlugin). Writes one CSV per series into the directory given as the
# first argument (default: fixtures/ next to this script); tests/r_agreement.rs compares the
# crate with them point by point.
#
#   Rscript crates/surveillance/tests/r/detectors.R [out_dir]
#
# The settings are healthplan's defaults (docs/early-warning.md) written in R's terms.

suppressPackageStartupMessages(library(surveillance))
stopifnot(packageVersion("surveillance") == "1.20.3")

args <- commandArgs(trailingOnly = TRUE)
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE)))
out_dir <- if (length(args) >= 1) args[1] else file.path(here, "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# The patch. algo.farrington.fitGLM.flexible ends with `model$weights <- omega`, replacing
# glm's working weights with the prior (down-weighting) weights; summary.glm then computes the
# trend's dispersion and p-value from the wrong weights. healthplan keeps glm's weights, so R
# is patched to `model$weights <- model$weights` (a no-op) before comparing.
fit_src <- deparse(surveillance:::algo.farrington.fitGLM.flexible)
hit <- grep("model$weights <- omega", fit_src, fixed = TRUE)
stopifnot(length(hit) == 1)
fit_src[hit] <- sub("omega", "model$weights", fit_src[hit], fixed = TRUE)
patched <- eval(parse(text = fit_src))
environment(patched) <- asNamespace("surveillance")
stock <- surveillance:::algo.farrington.fitGLM.flexible
use_fit <- function(f) assignInNamespace("algo.farrington.fitGLM.flexible", f, ns = "surveillance")

# Series: R's own data sets (national or city totals) and synthetic ones.
data("salmNewport", "ha.sts", "salmonella.agona", package = "surveillance")
synthetic <- function(seed, n, mu_of, size, outbreaks, missing) {
  set.seed(seed)
  t <- seq_len(n)
  mu <- mu_of(t)
  x <- if (is.finite(size)) rnbinom(n, mu = mu, size = size) else rpois(n, mu)
  for (o in outbreaks) {
    idx <- o:(o + 4)
    x[idx] <- x[idx] + rpois(5, 3 * sqrt(mu[idx]) + 2)
  }
  x[sample(n, round(missing * n))] <- NA
  x
}
season <- function(level, amp) function(t) level * (1 + amp * sin(2 * pi * t / 52))
sparse <- {
  # Zero for 300 weeks (an all-zero Farrington baseline), then a few cases and an outbreak.
  set.seed(3)
  x <- c(rep(0, 300), rpois(70, 0.8))
  x[330:334] <- x[330:334] + c(2, 4, 6, 3, 1)
  x[c(310, 351)] <- NA
  x
}
series <- list(
  salmNewport = as.vector(observed(aggregate(salmNewport, by = "unit"))),
  ha = as.vector(rowSums(observed(ha.sts))),
  salmonella_agona = as.vector(salmonella.agona$observed),
  poisson = synthetic(1, 370, season(4, 0.5), Inf, c(120, 280, 340), 0.03),
  negbin = synthetic(2, 370, function(t) season(6, 0.4)(t) * (1 + t / 400), 1.5,
    c(90, 300, 350), 0.03),
  sparse = sparse
)

ears_alpha <- pnorm(-3)  # zAlpha = 3, healthplan's threshold
min_sd <- 0.5

# earsC's bound, and the statistic from the same mean and sd (which earsC does not return);
# the statistic's mean and sd are checked against earsC's bound.
ears <- function(x, method) {
  s <- sts(observed = x, frequency = 52, start = c(2000, 1))
  res <- earsC(s, control = list(method = method, baseline = 7, minSigma = min_sd,
                                 alpha = if (method == "C3") pnorm(-2) else ears_alpha))
  n <- length(x)
  rng <- (n - nrow(res) + 1):n
  ub <- al <- rep(NA_real_, n)
  ub[rng] <- upperbound(res)[, 1]
  al[rng] <- as.numeric(alarms(res)[, 1])
  list(ub = ub, alarm = al)
}
c_stat <- function(x, guard) {
  sapply(seq_along(x), function(t) {
    if (t <= 7 + guard) return(NA_real_)
    b <- x[(t - 7 - guard):(t - 1 - guard)]
    (x[t] - mean(b)) / max(sd(b), min_sd)
  })
}
c_bound <- function(x, guard) {
  sapply(seq_along(x), function(t) {
    if (t <= 7 + guard) return(NA_real_)
    b <- x[(t - 7 - guard):(t - 1 - guard)]
    mean(b) + qnorm(1 - ears_alpha) * max(sd(b), min_sd)
  })
}

# algo.cusum with healthplan's moving mean: m_t is the mean of the reported values among
# x[t-9..t-3] (at least 5), floored at 0.5. A missing x_t leaves S unchanged and a short
# baseline restarts S at 0, so R runs on each stretch between restarts, over its reported days.
cusum <- function(x) {
  n <- length(x)
  m <- sapply(seq_len(n), function(t) {
    if (t <= 9) return(NA_real_)
    b <- x[(t - 9):(t - 3)]
    if (sum(!is.na(b)) < 5) NA_real_ else max(0.5, mean(b, na.rm = TRUE))
  })
  s <- ub <- al <- rep(NA_real_, n)
  run <- function(idx) {
    if (length(idx) == 0) return()
    d <- suppressWarnings(create.disProg(week = seq_along(idx), observed = x[idx],
                                         state = rep(0, length(idx))))
    r <- algo.cusum(d, control = list(range = seq_along(idx), k = 1.04, h = 2.26, m = m[idx],
                                      trans = "standard"))
    s[idx] <<- r$cusum
    ub[idx] <<- r$upperbound
    al[idx] <<- as.numeric(r$alarm)
  }
  stretch <- integer(0)
  for (t in seq_len(n)) {
    if (is.na(x[t])) next
    if (is.na(m[t])) {
      run(stretch)
      stretch <- integer(0)
    } else {
      stretch <- c(stretch, t)
    }
  }
  run(stretch)
  list(m = m, s = s, ub = ub, alarm = al)
}

farrington <- function(x) {
  s <- sts(observed = x, frequency = 52, start = c(2000, 1))
  res <- suppressWarnings(farringtonFlexible(s, control = list(
    b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, glmWarnings = FALSE,
    alpha = 0.005, trend = TRUE, pThresholdTrend = 0.05, limit54 = c(5, 4),
    powertrans = "none", noPeriods = 10, pastWeeksNotIncluded = 26,
    thresholdMethod = "nbPlugin")))
  n <- length(x)
  rng <- (n - nrow(res) + 1):n
  mu0 <- ub <- al <- rep(NA_real_, n)
  mu0[rng] <- res@control$mu0Vector[, 1]
  ub[rng] <- upperbound(res)[, 1]
  al[rng] <- as.numeric(alarms(res)[, 1])
  list(mu0 = mu0, ub = ub, alarm = al)
}

num <- function(v) ifelse(is.na(v), "NA", sprintf("%.12g", v))
for (name in names(series)) {
  x <- series[[name]]
  c1 <- ears(x, "C1")
  c2 <- ears(x, "C2")
  c3 <- ears(x, "C3")
  for (g in list(list(c1, 0), list(c2, 2))) {
    ok <- !is.na(g[[1]]$ub)
    stopifnot(isTRUE(all.equal(g[[1]]$ub[ok], c_bound(x, g[[2]])[ok], tolerance = 1e-14)))
  }
  cu <- cusum(x)
  use_fit(stock)
  stock_ub <- farrington(x)$ub
  use_fit(patched)
  fa <- farrington(x)
  differ <- xor(is.na(stock_ub), is.na(fa$ub)) | (!is.na(fa$ub) & stock_ub != fa$ub)
  message(sprintf("%s: stock R's Farrington bound differs from the patched one on %d of %d weeks",
                  name, sum(differ, na.rm = TRUE), sum(!is.na(fa$ub))))
  out <- data.frame(
    x = num(x),
    c1 = num(c_stat(x, 0)), c1_ub = num(c1$ub), c1_alarm = num(c1$alarm),
    c2 = num(c_stat(x, 2)), c2_ub = num(c2$ub), c2_alarm = num(c2$alarm),
    c3_alarm = num(c3$alarm),
    cusum_m = num(cu$m), cusum_s = num(cu$s), cusum_ub = num(cu$ub), cusum_alarm = num(cu$alarm),
    far_mu0 = num(fa$mu0), far_ub = num(fa$ub), far_alarm = num(fa$alarm)
  )
  write.csv(out, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
}
