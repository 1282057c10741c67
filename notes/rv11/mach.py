import warnings; warnings.simplefilter("ignore")
import mixedfit as mf
from mixedfit.io.datasets import load_dataset
print(mf.lmer("score ~ Machine + (Machine|Worker)", load_dataset("machines")).confint(method="profile").to_string())
