/* bind.c: binds given networks to a property's declared networks and checks that the two agree
 * (names, element counts, element types, hidden node names); completes a point by evaluating
 * the networks. Pointers in twinn_problem are borrowed; only the nets array is owned. */
#include "bind.h"

#include <stdio.h>
#include <string.h>

int twinn_problem_tap_point(const twinn_net *net, const twinn_var *v, size_t *point) {
  size_t t;
  if (!v->node_name) return 0;
  for (t = 0; t < net->n_taps; t++)
    if (net->taps[t].node_name && strcmp(net->taps[t].node_name, v->node_name) == 0) break;
  if (t == net->n_taps)
    for (t = 0; t < net->n_taps; t++)
      if (net->taps[t].tensor_name && strcmp(net->taps[t].tensor_name, v->node_name) == 0) break;
  if (t == net->n_taps) return 0;
  *point = net->taps[t].after_layer;
  return 1;
}

static void shape_str(char *buf, size_t n, size_t rank, const size_t *dims) {
  size_t k;
  snprintf(buf, n, "[");
  for (k = 0; k < rank; k++)
    snprintf(buf + strlen(buf), n - strlen(buf), k ? ",%zu" : "%zu", dims[k]);
  snprintf(buf + strlen(buf), n - strlen(buf), "]");
}

/* Checks one declared variable of network pn against the model. */
static twinn_status check_var(const twinn_prop *prop, const twinn_var *v, const twinn_net *net,
                              twinn_error *err) {
  size_t want = 0, point, rank = 0;
  const size_t *dims = NULL;
  twinn_elem_type type = 0;
  char decl[128], model[128];
  const char *what = v->role == TWINN_VAR_INPUT    ? "input"
                     : v->role == TWINN_VAR_OUTPUT ? "output"
                                                   : "hidden";
  if (v->role == TWINN_VAR_INPUT) {
    want = net->n_in, rank = net->in_rank, dims = net->in_dims, type = net->in_type;
  } else if (v->role == TWINN_VAR_OUTPUT) {
    want = net->n_out, rank = net->out_rank, dims = net->out_dims, type = net->out_type;
  } else {
    if (!twinn_problem_tap_point(net, v, &point))
      return twinn_error_set(err, TWINN_ERR_SEMANTIC, prop->path, v->line, v->col,
                             "hidden variable '%s': the model has no node '%s'", v->name,
                             v->node_name ? v->node_name : "");
    want = twinn_net_width_at(net, point);
    /* A tensor between layers has the type the model computes in: where its input and output
     * agree, that one (the loader keeps no types of intermediate tensors). */
    if (net->in_type == net->out_type) type = net->in_type;
  }
  if (v->n != want) {
    shape_str(decl, sizeof decl, v->rank, v->dims);
    if (dims)
      shape_str(model, sizeof model, rank, dims);
    else
      snprintf(model, sizeof model, "[%zu]", want);
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, prop->path, v->line, v->col,
                           "%s variable '%s' is declared %s (%zu elements) but the model's %s "
                           "is %s (%zu elements)",
                           what, v->name, decl, v->n, what, model, want);
  }
  if (v->elem_type != 0 && type != 0 && v->elem_type != type && v->role == TWINN_VAR_HIDDEN)
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, prop->path, v->line, v->col,
                           "hidden variable '%s' is declared %s (type %d) but the model computes "
                           "in element type %d (its input and output type)",
                           v->name, v->type_name ? v->type_name : "?", v->elem_type, type);
  if (v->elem_type != 0 && type != 0 && v->elem_type != type)
    return twinn_error_set(err, TWINN_ERR_SEMANTIC, prop->path, v->line, v->col,
                           "%s variable '%s' is declared %s (type %d) but the model's %s has "
                           "element type %d",
                           what, v->name, v->type_name ? v->type_name : "?", v->elem_type, what,
                           type);
  return TWINN_OK;
}

twinn_status twinn_problem_bind(twinn_problem *pb, const twinn_prop *prop, size_t n_given,
                                const char *const *names, const twinn_net *const *nets,
                                twinn_error *err) {
  size_t i, j, v;
  twinn_status st = TWINN_OK;
  memset(pb, 0, sizeof *pb);
  pb->prop = prop;
  pb->n_nets = prop->n_nets;
  pb->nets = twinn_calloc(prop->n_nets + 1, sizeof *pb->nets);
  if (!pb->nets) return twinn_error_set(err, TWINN_ERR_NOMEM, NULL, 0, 0, "out of memory");
  if (prop->version == TWINN_VNNLIB_1_0) {
    if (n_given != 1 || prop->n_nets != 1) {
      st = twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                           "a VNN-LIB 1.0 query takes exactly one network, %zu given", n_given);
      goto fail;
    }
    pb->nets[0] = nets[0];
  } else {
    for (j = 0; j < n_given; j++) {
      const char *nm = names && names[j] ? names[j] : "";
      for (i = 0; i < prop->n_nets; i++)
        if (strcmp(prop->nets[i].name, nm) == 0) break;
      if (i == prop->n_nets && !nm[0]) {
        st = twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                             "a network is given without a name: this query declares %zu "
                             "network%s, give each as --network NAME=FILE (first: '%s')",
                             prop->n_nets, prop->n_nets == 1 ? "" : "s",
                             prop->n_nets ? prop->nets[0].name : "");
        goto fail;
      }
      if (i == prop->n_nets) {
        st = twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                             "network '%s' is given but the query declares no such network", nm);
        goto fail;
      }
      if (prop->nets[i].rel == TWINN_NETREL_EQUAL) {
        st = twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0,
                             "network '%s' is declared equal-to '%s': give only '%s'", nm,
                             prop->nets[prop->nets[i].rel_to].name,
                             prop->nets[prop->nets[i].rel_to].name);
        goto fail;
      }
      if (pb->nets[i]) {
        st = twinn_error_set(err, TWINN_ERR_USAGE, NULL, 0, 0, "network '%s' is given twice", nm);
        goto fail;
      }
      pb->nets[i] = nets[j];
    }
    for (i = 0; i < prop->n_nets; i++) {
      if (prop->nets[i].rel == TWINN_NETREL_EQUAL) continue;
      if (!pb->nets[i]) {
        st = twinn_error_set(err, TWINN_ERR_USAGE, prop->path, prop->nets[i].line,
                             prop->nets[i].col, "no network given for '%s' (use --network %s=FILE)",
                             prop->nets[i].name, prop->nets[i].name);
        goto fail;
      }
    }
    for (i = 0; i < prop->n_nets; i++)
      if (prop->nets[i].rel == TWINN_NETREL_EQUAL) {
        size_t to = prop->nets[i].rel_to;
        if (to >= prop->n_nets || !pb->nets[to]) {
          st = twinn_error_set(err, TWINN_ERR_SEMANTIC, prop->path, prop->nets[i].line,
                               prop->nets[i].col, "network '%s' is equal-to an unbound network",
                               prop->nets[i].name);
          goto fail;
        }
        pb->nets[i] = pb->nets[to];
      }
  }
  for (i = 0; i < prop->n_nets; i++) {
    const twinn_prop_net *pn = &prop->nets[i];
    size_t n_in = twinn_prop_net_count(prop, i, TWINN_VAR_INPUT);
    size_t n_out = twinn_prop_net_count(prop, i, TWINN_VAR_OUTPUT);
    if (n_in != 1 || n_out != 1) {
      st =
          twinn_error_set(err, n_in == 0 || n_out == 0 ? TWINN_ERR_SEMANTIC : TWINN_ERR_UNSUPPORTED,
                          prop->path, pn->line, pn->col,
                          "network '%s' declares %zu input and %zu output variables; twinn "
                          "handles exactly one of each",
                          pn->name, n_in, n_out);
      goto fail;
    }
    for (v = 0; v < pn->n_vars; v++) {
      st = check_var(prop, &prop->vars[pn->first_var + v], pb->nets[i], err);
      if (st != TWINN_OK) goto fail;
    }
  }
  return TWINN_OK;
fail:
  twinn_problem_release(pb);
  return st;
}

void twinn_problem_release(twinn_problem *pb) {
  if (!pb) return;
  twinn_free(pb->nets);
  pb->nets = NULL;
  pb->n_nets = 0;
}

twinn_status twinn_problem_complete(const twinn_problem *pb, double *x) {
  const twinn_prop *prop = pb->prop;
  size_t i, v, point;
  twinn_status st;
  for (i = 0; i < pb->n_nets; i++) {
    const twinn_prop_net *pn = &prop->nets[i];
    const twinn_var *in = twinn_prop_net_var(prop, i, TWINN_VAR_INPUT);
    if (!in) return TWINN_ERR_INTERNAL;
    for (v = 0; v < pn->n_vars; v++) {
      const twinn_var *var = &prop->vars[pn->first_var + v];
      if (var->role == TWINN_VAR_OUTPUT) {
        st = twinn_net_eval(pb->nets[i], x + in->offset, x + var->offset);
      } else if (var->role == TWINN_VAR_HIDDEN) {
        if (!twinn_problem_tap_point(pb->nets[i], var, &point)) return TWINN_ERR_INTERNAL;
        st = twinn_net_eval_upto(pb->nets[i], x + in->offset, point, x + var->offset);
      } else {
        continue;
      }
      if (st != TWINN_OK) return st;
    }
  }
  return TWINN_OK;
}
