# bound_ends.awk: reads `twinn bound --json` and prints "out LOWER UPPER" per output,
# "linf LOWER UPPER", and "try OUTPUT THRESHOLD VERDICT BOUND" per verifier question (OUTPUT: a
# number, or null for all outputs; BOUND: a timed-out question's certified upper end, or null).
/"outputs"/ { s = "out" } /"linf"/ { s = "linf" } /"verifier"/ { s = "try" }
/"complete"/ { s = "" }
s != "" && /"lower"/ { gsub(/,/, ""); l = $2 }
s == "out" && /"upper"/ { gsub(/,/, ""); print "out", l, $2 }
s == "linf" && /"upper"/ { gsub(/,/, ""); print "linf", l, $2 }
s == "try" && /"output"/ { gsub(/,/, ""); o = $2 }
s == "try" && /"threshold"/ { gsub(/,/, ""); t = $2 }
s == "try" && /"verdict"/ { gsub(/[",]/, ""); v = $2 }
s == "try" && /"bound"/ { gsub(/,/, ""); print "try", o, t, v, $2 }
